/**
 * Builds the command tree from the table in command-table.ts and runs it: one place wires
 * arguments, options, help, lazy loading and the top-level error handler.
 */
import { Command, CommanderError, Help, Option } from 'commander';
import { COMMANDS, type CommandDef } from './command-table.js';
import { wantsJson } from './options.js';
import { out, printErrorJson, reportError, startCommand, usageSentence, USAGE_HINT } from './output/print.js';

declare const __CILO_VERSION__: string;
const VERSION: string = typeof __CILO_VERSION__ === 'string' ? __CILO_VERSION__ : '0.0.0-dev';

/** Runs a command's code with its arguments (in order) and options. Tests pass their own. */
type Runner = (def: CommandDef, values: unknown[], opts: Record<string, unknown>) => Promise<void>;

async function runModule(def: CommandDef, values: unknown[], opts: Record<string, unknown>): Promise<void> {
  if (!def.load) return;
  // Everything but the DNS server (its own supervisor) and completion migrates a legacy state file and reaps expired shared services.
  // The command's module loads while the state is read: two waits in one.
  const loading = def.load();
  if (!def.skipReap) await (await import('./before-command.js')).beforeCommand();
  const handler = await loading;
  const code = await handler(...(values as never[]), opts as never);
  if (typeof code === 'number') process.exitCode = code;
}

function usageOf(def: CommandDef): string {
  return ['[options]', ...(def.args ?? []).map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? '...' : ''}]`))].join(' ');
}

/** Commands parsed by pass-through.ts: their usage is not the `[tokens...]` commander sees. */
const passThroughCommands = new WeakSet<Command>();
const plainHelp = new Help();

/** cilo's own parsing for a pass-through command; commander only shows its help. */
function wirePassThrough(cmd: Command, def: CommandDef, run: Runner): void {
  const help = new Option('-h, --help', 'show help');
  passThroughCommands.add(cmd);
  cmd
    .argument('[tokens...]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .usage(usageOf(def))
    .configureHelp({ visibleOptions: () => [...(def.options ?? []), help], visibleArguments: () => [...(def.args ?? [])] })
    .action(async (tokens: string[]) => {
      // Only run, exec and compose parse their own line: loaded for them alone.
      const { parsePassThrough } = await import('./pass-through.js');
      const parsed = parsePassThrough({ name: def.name, args: def.args ?? [], options: def.options ?? [] }, tokens);
      if (parsed.help) cmd.help();
      await run(def, [...parsed.positionals, parsed.rest], parsed.opts);
    });
}

function wire(cmd: Command, def: CommandDef, run: Runner): void {
  if (def.alias) cmd.alias(def.alias);
  cmd.description(def.description);
  if (def.help) cmd.addHelpText('after', def.help);
  if (!def.load) return;
  if (def.passThrough) {
    wirePassThrough(cmd, def, run);
    return;
  }
  for (const a of def.args ?? []) cmd.addArgument(a);
  for (const o of def.options ?? []) cmd.addOption(o);
  cmd.action(async () => run(def, cmd.processedArgs, cmd.opts()));
}

/**
 * Which part of the command tree to wire: all of it (`help <command>`, an unknown word,
 * completion), the top level (the root's help lists nothing deeper), or the one top-level
 * command the line names, with its subcommands (the others would be built for nothing).
 */
export type Scope = 'all' | 'top' | { command: string };

/** The command tree, wired as far as `scope` asks. */
export function buildProgram(run: Runner = runModule, scope: Scope = 'all'): Command {
  const program = new Command('cilo');
  program
    .description('Run many isolated copies of one Docker Compose project side by side, with DNS names and shared services.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .configureHelp({
      sortSubcommands: false,
      subcommandTerm: (cmd) => (passThroughCommands.has(cmd) ? `${cmd.name()} ${cmd.usage().replace('[options] ', '')}` : plainHelp.subcommandTerm(cmd)),
    })
    .addHelpText('after', '\nEnvironment: CILO_HOME (state directory, default ~/.cilo), CILO_COMPOSE (`docker`, or a Compose v2 binary; default: the plugin binary the docker CLI would run), CILO_DEBUG=1 (stack traces).\nWith --json, a command that changes something prints one JSON document with a "warnings" list (each warning is on stderr too);\na failure prints {"ok": false, "code", "message", "hint"}.\nRun `cilo <command> --help` for a command\'s options.');
  // Set before subcommands are added: they inherit both.
  program.exitOverride();
  program.configureOutput({ outputError: (str, write) => write(`cilo: ${usageSentence(str)}\nhint: ${USAGE_HINT}\n`) });

  const made = new Map<string, Command>();
  for (const def of COMMANDS) {
    const path = def.name.split(' ');
    if (scope === 'top' ? path.length > 1 : scope !== 'all' && path[0] !== scope.command) continue;
    const parent = path.length > 1 ? made.get(path.slice(0, -1).join(' ')) : program;
    if (!parent) throw new Error(`command table: "${def.name}" comes before its group`);
    const cmd = parent.command(path[path.length - 1] ?? def.name, { hidden: def.hidden === true });
    wire(cmd, def, run);
    made.set(def.name, cmd);
  }
  return program;
}

/** The declaration of the command `argv` names (its path of command names), if any. */
export function commandOf(argv: readonly string[]): CommandDef | undefined {
  let found: CommandDef | undefined;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const parent = found ? `${found.name} ` : '';
    const child = (d: CommandDef): boolean => d.name.startsWith(parent) && !d.name.slice(parent.length).includes(' ');
    const def = COMMANDS.find((d) => d.name === `${parent}${word}` || (d.alias === word && child(d)));
    if (!def) break;
    found = def;
  }
  return found;
}

/** How much of the tree the line needs: the root's help, the top-level command it names first, or all. */
function scopeOf(argv: readonly string[]): Scope {
  const first = argv[0];
  if (first === undefined || (argv.length === 1 && (first === '--help' || first === '-h'))) return 'top';
  if (first.startsWith('-')) return 'all';
  const def = COMMANDS.find((d) => !d.name.includes(' ') && (d.name === first || d.alias === first));
  return def ? { command: def.name } : 'all';
}

/** For a usage error (before any option was parsed): whether the line asked for JSON output. */
function argvWantsJson(argv: readonly string[]): boolean {
  const def = commandOf(argv);
  if (!def?.options?.some((o) => o.long === '--json' || o.long === '--format')) return false;
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  return own.some((w, i) => w === '--json' || w === '--format=json' || (w === '--format' && own[i + 1] === 'json'));
}

/** Runs the CLI with the given arguments (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // The version needs no command tree.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    out(VERSION);
    return 0;
  }
  startCommand();
  // From the parsed options once a command runs; before that, from the command line.
  let json: boolean | undefined;
  const program = buildProgram(async (def, values, opts) => {
    json = wantsJson(opts);
    await runModule(def, values, opts);
  }, scopeOf(argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // commander has written the sentence to stderr already (outputError above).
      if (argvWantsJson(argv)) printErrorJson({ code: 'USAGE', message: usageSentence(e.message), hint: USAGE_HINT });
      return 2;
    }
    return reportError(e, { json: json ?? argvWantsJson(argv) });
  }
}
