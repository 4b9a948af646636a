/**
 * Builds the command tree. Each command's code is imported only when it runs, so
 * `cilo --version` and `cilo --help` stay cheap.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerAgentCommands } from './agent-commands.js';
import { registerDbCommands } from './db-commands.js';
import { registerDnsCommands } from './dns-commands.js';
import { reportError } from './output/print.js';
import { collect, lazy } from './lazy.js';

declare const __CILO_VERSION__: string;
export const VERSION: string = typeof __CILO_VERSION__ === 'string' ? __CILO_VERSION__ : '0.0.0-dev';


function intArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return n;
  };
}

/** Wires a command's action to a lazily imported module. */
export function buildProgram(): Command {
  const program = new Command('cilo');
  program
    .description('Run many isolated copies of one Docker Compose project side by side, with DNS names and shared services.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false })
    .addHelpText('after', '\nEnvironment: CILO_HOME (state directory, default ~/.cilo), CILO_COMPOSE (`docker`, or a Compose v2 binary; default: the plugin binary the docker CLI would run), CILO_DEBUG=1 (stack traces).\nRun `cilo <command> --help` for a command\'s options.');
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

  program
    .command('create')
    .description('create an environment: allocate a subnet and copy the project into a workspace')
    .argument('<env>', 'environment name')
    .option('--from <dir>', 'project directory to copy (default: current directory)')
    .option('--project <name>', 'project name (default: .cilo/config.yml project, else directory name)')
    .option('--empty', 'create an empty workspace instead of copying the project')
    .option('--include <glob>', 'also copy a dot-directory or path matching GLOB (repeatable)', collect)
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/create.js')));

  program
    .command('up')
    .description('start an environment (creating it first if needed) and wait until its services are ready')
    .argument('<env>', 'environment name')
    .option('--from <dir>', 'project directory, when the environment must be created')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--build', 'build images before starting')
    .option('--recreate', 'recreate containers even if their definition did not change (and a shared service whose definition changed)')
    .option('--shared <services...>', 'share these services (comma- or space-separated, repeatable)')
    .option('--isolate <services...>', 'give this environment its own copy of these services even if labelled cilo.share')
    .option('--db-from <env>', "start a new environment's private datasets as copies of another environment's")
    .addOption(new Option('--timeout <seconds>', 'how long to wait for services to be running and healthy').default(180).argParser(intArg('--timeout')))
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/up.js')));

  program
    .command('down')
    .description('stop an environment, keeping its containers, workspace, network and volumes')
    .argument('<env>', 'environment name')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--pause', 'freeze the containers instead of stopping them: they keep their memory, and the next `up` resumes them in well under a second')
    .action(lazy(() => import('./commands/down.js')));

  program
    .command('destroy')
    .description('remove an environment: containers, volumes, network, DNS names and workspace')
    .argument('[env]', 'environment name')
    .option('--all', 'destroy every environment (of --project, if given)')
    .option('--project <name>', 'project name (must match the environment)')
    .option('-f, --force', 'do not ask for confirmation (required without a terminal)')
    .option('--keep-workspace', 'keep the workspace directory')
    .action(lazy(() => import('./commands/destroy.js')));

  program
    .command('list')
    .alias('ls')
    .description('list environments of the current project (or all)')
    .option('--all', 'list environments of every project')
    .option('--project <name>', 'list environments of this project')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'quiet']).default('table'))
    .option('--json', 'same as --format json')
    .action(lazy(() => import('./commands/list.js')));

  program
    .command('status')
    .description('show an environment and its services with live container state, and the values rewritten to name its private datasets')
    .argument('<env>', 'environment name')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/status.js')));

  program
    .command('logs')
    .description('show the logs of an environment (or one service), through docker compose')
    .argument('<env>', 'environment name')
    .argument('[service]', 'service name')
    .option('-f, --follow', 'follow log output')
    .option('--tail <n>', 'number of lines from the end', intArg('--tail'))
    .option('--project <name>', 'project name (must match the environment)')
    .action(lazy(() => import('./commands/logs.js')));

  program
    .command('exec')
    .description('run a command in a service container (default: sh)')
    .argument('<env>', 'environment name')
    .argument('<service>', 'service name')
    .argument('[command...]', 'command and arguments')
    .option('--project <name>', 'project name (must match the environment)')
    .passThroughOptions()
    .action(lazy(() => import('./commands/exec.js')));

  program
    .command('compose')
    .description('run any docker compose command against an environment (default: ps)')
    .argument('<env>', 'environment name')
    .argument('[args...]', 'docker compose arguments')
    .passThroughOptions()
    .allowUnknownOption()
    .action(lazy(() => import('./commands/compose.js')));

  program
    .command('path')
    .description("print an environment's workspace path")
    .argument('<env>', 'environment name')
    .option('--project <name>', 'project name (must match the environment)')
    .action(lazy(() => import('./commands/path.js')));

  const shared = program.command('shared').description('shared services: one container serving many environments');
  shared
    .command('list')
    .description('list shared services: container, users, grace deadline, config hash, private datasets and their sizes')
    .option('--project <name>', 'only this project')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/shared-list.js')));
  shared
    .command('stop')
    .description('stop and remove a shared service container now (its volumes stay)')
    .argument('<service>', 'service name')
    .option('--project <name>', 'project of the service (default: the current directory\'s, or the only one that has it)')
    .option('-f, --force', 'stop it even while environments use it')
    .action(lazy(() => import('./commands/shared-stop.js')));

  program
    .command('doctor')
    .description('check the engine, DNS server, state against Docker, orphans and shared services')
    .option('--fix', 'repair what can be repaired safely')
    .option('--force', 'with --fix, also delete workspaces and volumes that may hold data')
    .option('--json', 'print the report as JSON')
    .action(lazy(() => import('./commands/doctor.js')));

  registerDnsCommands(program);
  registerDbCommands(program);
  registerAgentCommands(program);

  program.hook('preAction', async (_program, action) => {
    // The DNS server process runs its own supervisor; everything else reaps expired shared services.
    if (action.name() === 'serve') return;
    await (await import('./before-command.js')).beforeCommand();
  });

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
