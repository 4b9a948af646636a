/**
 * Builds the command tree. Each command's code is imported only when it runs, so
 * `cilo --version` and `cilo --help` stay cheap.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerDnsCommands } from './dns-commands.js';
import { reportError } from './output/print.js';

declare const __CILO_VERSION__: string;
export const VERSION: string = typeof __CILO_VERSION__ === 'string' ? __CILO_VERSION__ : '0.0.0-dev';


function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function intArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return n;
  };
}

/** Wires a command's action to a lazily imported module. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes positional args then options
function lazy<A extends any[]>(load: () => Promise<{ default: (...args: A) => Promise<number | void> }>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const mod = await load();
    const code = await mod.default(...args);
    if (typeof code === 'number') process.exitCode = code;
  };
}

export function buildProgram(): Command {
  const program = new Command('cilo');
  program
    .description('Run many isolated copies of one Docker Compose project side by side, with DNS names and shared services.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false })
    .addHelpText('after', '\nEnvironment: CILO_HOME (state directory, default ~/.cilo), CILO_DEBUG=1 (stack traces).\nRun `cilo <command> --help` for a command\'s options.');
  // Set before subcommands are added: they inherit both.
  program.exitOverride();
  program.configureOutput({
    outputError: (str, write) => {
      const text = str.replace(/^error: /, '').trim();
      write(`cilo: ${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.?!]$/.test(text) ? '' : '.'}\nhint: Run \`cilo --help\` (or \`cilo <command> --help\`) to see the usage.\n`);
    },
  });

  program
    .command('init')
    .description('create CILO_HOME and its state (idempotent, needs no root)')
    .option('--base-subnet <cidr>', 'base range for environment subnets (repeatable)', collect)
    .option('--dns-port <port>', 'port of the DNS server on 127.0.0.1', intArg('--dns-port'))
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/init.js')));

  registerDnsCommands(program);

  return program;
}

/** Runs the CLI with the given arguments (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    return reportError(e);
  }
}
