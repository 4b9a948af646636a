/**
 * The options and arguments that several commands share, each written once. A command lists
 * them in its declaration (commands.ts); the same objects drive parsing, `--help` and shell
 * completion.
 */
import { Argument, InvalidArgumentError, Option } from 'commander';

/** What shell completion offers for an argument or an option's value. */
export type Completion = 'env' | 'service' | 'shared' | 'project';

/** An argument whose values shell completion can list. */
class CompletingArgument extends Argument {
  constructor(
    name: string,
    description: string,
    readonly completion: Completion,
  ) {
    super(name, description);
  }
}

/** An option whose values shell completion can list. */
class CompletingOption extends Option {
  constructor(
    flags: string,
    description: string,
    readonly completion: Completion,
  ) {
    super(flags, description);
  }
}

export function completionOf(x: Argument | Option): Completion | undefined {
  return x instanceof CompletingArgument || x instanceof CompletingOption ? x.completion : undefined;
}

/** Repeatable option: `--include a --include b` gives `['a', 'b']`. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function wholeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return n;
  };
}

/** An environment name is taken exactly as typed: one that breaks the rule is refused, never normalized. */
const ENV_NAME = 'environment name, exactly as typed (lowercase letters, digits and "-")';

export const args = {
  env: (description = ENV_NAME): Argument => new CompletingArgument('<env>', description, 'env'),
  optionalEnv: (description = ENV_NAME): Argument => new CompletingArgument('[env]', description, 'env'),
  service: (description = 'service name'): Argument => new CompletingArgument('<service>', description, 'service'),
  optionalService: (description = 'service name'): Argument => new CompletingArgument('[service]', description, 'service'),
  host: (): Argument => new Argument('<name>', 'host name (`cilo host list`)'),
  sharedService: (): Argument => new CompletingArgument('<service>', 'shared service name', 'shared'),
};

export const options = {
  project: (description = 'project name (must match the environment)'): Option => new CompletingOption('--project <name>', description, 'project'),
  json: (description = 'print the result as JSON'): Option => new Option('--json', description),
  from: (description = 'project directory, when the environment must be created (default: current directory)'): Option => new Option('--from <dir>', description),
  format: (choices: readonly [string, ...string[]]): Option =>
    new Option('--format <format>', 'output format').choices(choices).default(choices[0]),
  /** `--json` beside `--format`, for the commands whose formats include json. */
  jsonFormat: (): Option => new Option('--json', 'same as --format json'),
  force: (description: string): Option => new Option('-f, --force', description),
  whole: (flags: string, description: string): Option => new Option(flags, description).argParser(wholeNumber(flags.replace(/ .*/, ''))),
  repeatable: (flags: string, description: string): Option => new Option(flags, description).argParser(collect),
  autoName: (): Option => new Option('--auto-name', 'treat <env> as a prefix: take the first free <env>-N (atomically, so parallel callers never share one) and print it'),
  host: (): Option => new Option('--host <name>', 'create the environment on this remote host (`cilo host add`); remembered by the environment'),
  inPlace: (): Option => new Option('--in-place', 'a new environment runs on the project directory itself: nothing is copied, edits there are live (the default inside a linked git worktree)').conflicts('copy'),
  copy: (): Option => new Option('--copy', 'a new environment runs on a copy of the project, also inside a linked git worktree'),
  showSecrets: (): Option => new Option('--show-secrets', 'with --json: show passwords and tokens in the services\' environment instead of "***"'),
};

/** The workspace mode `--in-place` / `--copy` ask for (commander refuses both at once); undefined: the default. */
export function workspaceFlag(opts: { inPlace?: boolean | undefined; copy?: boolean | undefined }): 'in-place' | 'copy' | undefined {
  return opts.inPlace ? 'in-place' : opts.copy ? 'copy' : undefined;
}

/** Whether the parsed options ask for JSON output (`--json`, or `--format json`). */
export function wantsJson(opts: Readonly<Record<string, unknown>>): boolean {
  return opts.json === true || opts.format === 'json';
}
