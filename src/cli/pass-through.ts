/**
 * Arguments of the commands that hand the rest of their command line to another program
 * (`run`, `exec`, `compose`), parsed the way the original cilo (cobra) accepted them:
 *
 *   cilo run  [own options] <command> <env> [own options] [--] [args...]
 *   cilo exec [own options] <env> <service> [own options] [--] [command...]
 *
 * cilo's own options are recognised before the first argument, and right after the last
 * required one until the first other word or `--` (dropped); everything after that goes to the
 * program untouched, `--` included. Boolean options also take cobra's `--tty=false` and
 * `-t=false` forms. commander cannot do this: it stops at the first argument, and has no
 * `=false` for a flag.
 */
import type { Argument, Option } from 'commander';
import { usageError } from '../errors.js';

interface PassThroughSpec {
  /** Usage name, for messages: `run`, `exec`. */
  name: string;
  /** The required arguments, then at most one variadic one that takes the rest. */
  args: readonly Argument[];
  options: readonly Option[];
}

interface PassThroughArgs {
  /** The required arguments, in order. */
  positionals: string[];
  /** Everything after them and the own options that follow them. */
  rest: string[];
  opts: Record<string, unknown>;
  /** `-h`/`--help` among the leading options. */
  help: boolean;
}

/** strconv.ParseBool, which cobra's bool flags use. */
function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

const isFlag = (o: Option): boolean => !o.required && !o.optional;

function defaults(options: readonly Option[]): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  for (const o of options) {
    if (o.defaultValue !== undefined) opts[o.attributeName()] = o.defaultValue;
    else if (o.negate) opts[o.attributeName()] = true;
  }
  return opts;
}

/**
 * Applies the own option at `tokens[i]` to `opts`; returns the index after it (and its value),
 * or undefined when the token is not one of `options`.
 */
function takeOption(spec: PassThroughSpec, tokens: readonly string[], i: number, opts: Record<string, unknown>): number | undefined {
  const token = tokens[i] ?? '';
  const eq = token.indexOf('=');
  const flag = eq > 1 ? token.slice(0, eq) : token;
  const inline = eq > 1 ? token.slice(eq + 1) : undefined;
  const option = spec.options.find((o) => o.long === flag || o.short === flag);
  if (!option) {
    // A group of short flags, as cobra takes them: `-it`.
    const group = /^-[A-Za-z]{2,}$/.test(token) ? [...token.slice(1)].map((c) => spec.options.find((o) => o.short === `-${c}` && isFlag(o) && !o.negate)) : [];
    if (group.length === 0 || group.some((o) => o === undefined)) return undefined;
    for (const o of group) if (o) opts[o.attributeName()] = true;
    return i + 1;
  }
  const key = option.attributeName();
  const usage = `Run \`cilo ${spec.name} --help\` to see the usage.`;
  if (!isFlag(option)) {
    const value = inline ?? tokens[i + 1];
    if (value === undefined) throw usageError(`Option ${option.flags} needs a value.`, usage);
    if (option.argChoices && !option.argChoices.includes(value)) {
      throw usageError(`${option.long ?? flag} "${value}" is not one of ${option.argChoices.join(', ')}.`, usage);
    }
    opts[key] = option.parseArg ? option.parseArg(value, opts[key]) : value;
    return inline === undefined ? i + 2 : i + 1;
  }
  if (option.negate) {
    if (inline !== undefined) throw usageError(`${flag} takes no value.`, usage);
    opts[key] = false;
    return i + 1;
  }
  const value = inline === undefined ? true : parseBool(inline);
  if (value === undefined) throw usageError(`${flag} takes true or false, not "${inline}".`, usage);
  opts[key] = value;
  return i + 1;
}

const argName = (a: Argument): string => `<${a.name()}>`;

export function parsePassThrough(spec: PassThroughSpec, tokens: readonly string[]): PassThroughArgs {
  const opts = defaults(spec.options);
  const usage = `Run \`cilo ${spec.name} --help\` to see the usage.`;
  const required = spec.args.filter((a) => a.required);
  let i = 0;
  while (i < tokens.length && tokens[i] !== '-' && tokens[i]?.startsWith('-')) {
    if (tokens[i] === '--') {
      i += 1;
      break;
    }
    if (tokens[i] === '-h' || tokens[i] === '--help') return { positionals: [], rest: [], opts, help: true };
    const next = takeOption(spec, tokens, i, opts);
    if (next === undefined) throw usageError(`Unknown option ${tokens[i]} for \`cilo ${spec.name}\`.`, usage);
    i = next;
  }
  const first = required[0];
  const last = required[required.length - 1];
  const positionals: string[] = [];
  for (const a of required) {
    const token = tokens[i];
    if (token === undefined) throw usageError(`Missing the ${argName(a)} argument.`, usage);
    if (token.startsWith('-') && token !== '-' && first && last) {
      throw usageError(`"${token}" is not the ${argName(a)} argument: cilo's options go before ${argName(first)} or right after ${argName(last)}.`, usage);
    }
    positionals.push(token);
    i += 1;
  }
  while (i < tokens.length) {
    if (tokens[i] === '--') {
      i += 1;
      break;
    }
    const next = takeOption(spec, tokens, i, opts);
    if (next === undefined) break;
    i = next;
  }
  return { positionals, rest: tokens.slice(i), opts, help: false };
}
