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

/** compose's own options before its command that take a value (compose v2), so that a value is not taken for the command. */
const COMPOSE_VALUE_OPTIONS = new Set(['--ansi', '--env-file', '-f', '--file', '--parallel', '--profile', '--progress', '-p', '--project-name', '--project-directory']);
/** compose commands whose words after the service are a command for the container. */
const CONTAINER_COMMANDS = new Set(['exec', 'run']);

/**
 * cilo's `--project NAME` (or `--project=NAME`) among the arguments `cilo compose` hands to
 * compose, which has no such option: the original's own end-to-end test writes
 * `cilo compose <env> ps --project P`. It is taken anywhere on the line but in what compose
 * hands on untouched: after `--`, and after the service of `exec` and `run` (the container's
 * command, whose own `--project` it is). compose's `-p`/`--project-name` and
 * `--project-directory` are compose's and stay.
 */
export function takeComposeProject(args: readonly string[], project: string | undefined): { args: string[]; project: string | undefined } {
  const usage = 'Run `cilo compose --help` to see the usage.';
  const kept: string[] = [];
  let command: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const token = args[i] ?? '';
    if (token === '--') break;
    if (token === '--project' || token.startsWith('--project=')) {
      const value = token === '--project' ? args[i + 1] : token.slice('--project='.length);
      if (value === undefined || value === '') throw usageError('Option --project <name> needs a value.', usage);
      if (project !== undefined && project !== value) throw usageError(`--project is given twice, as "${project}" and as "${value}": give it once.`, usage);
      project = value;
      if (token === '--project') i += 1;
      continue;
    }
    kept.push(token);
    if (token.startsWith('-') && token !== '-') {
      const value = args[i + 1];
      if (command === undefined && COMPOSE_VALUE_OPTIONS.has(token) && value !== undefined) {
        kept.push(value);
        i += 1;
      }
      continue;
    }
    if (command === undefined) command = token;
    else if (CONTAINER_COMMANDS.has(command)) {
      // The service: what follows is the container's command.
      i += 1;
      break;
    }
  }
  return { args: [...kept, ...args.slice(i)], project };
}
