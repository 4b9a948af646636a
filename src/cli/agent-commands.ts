/**
 * Commands of the agent workflow: run, setup, config, hostnames, diff, merge, network. Like
 * main.ts, each command's code is imported only when it runs.
 */
import { Option, type Command } from 'commander';
import { collect, lazy } from './lazy.js';

export function registerAgentCommands(program: Command): void {
  program
    .command('run')
    .description('run a command in an environment\'s workspace with CILO_* variables, creating and starting the environment if needed')
    .argument('<command>', 'program to run (searched in PATH; not a shell line)')
    .argument('<env>', 'environment name')
    .argument('[args...]', 'arguments for the command, passed untouched')
    .option('--from <dir>', 'project directory, when the environment must be created (default: current directory)')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--no-up', 'do not start the environment (it is still created if missing)')
    .option('--no-create', 'fail if the environment does not exist')
    .passThroughOptions()
    .addHelpText(
      'after',
      `
cilo's options go before <command>; everything after <env> (a leading "--" is dropped) goes to the
command. It runs in the workspace with stdin and the terminal inherited; signals are forwarded, and
cilo exits with its status (128+N when killed by signal N; 127 when it is not found). An environment
whose services all run is used as it is; \`cilo up <env>\` applies changes to its compose files.

Variables: CILO_ENV, CILO_PROJECT, CILO_WORKSPACE, CILO_BASE_URL (http://<project>.<env><suffix>),
CILO_DNS_SUFFIX, and for each service CILO_SERVICE_<NAME>_URL and CILO_SERVICE_<NAME>_IP
(name upper-cased, "-" and "." become "_").

Examples:
  cilo run npm agent-1 test
  cilo run --no-up sh agent-2 -c 'echo $CILO_BASE_URL'
  cilo run ./scripts/e2e.sh pr-42 -- --headless`,
    )
    .action(lazy(() => import('./commands/run.js')));

  program
    .command('setup')
    .description('write .cilo/config.yml for the project in the current directory')
    .option('--name <project>', 'project name (default: the directory name)')
    .option('--compose <file>', 'compose file (repeatable; default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml, with its override file)', collect)
    .option('--env-file <file>', 'env file for compose interpolation (repeatable)', collect)
    .option('--dns-suffix <suffix>', 'DNS suffix of the environments (default: .test)')
    .option('--default-env <env>', 'default environment name')
    .option('-f, --force', 'replace an existing .cilo/config.yml')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/setup.js')));

  program
    .command('config')
    .description('show the effective project configuration (.cilo/config.yml with defaults)')
    .option('--from <dir>', 'project directory (default: current directory)')
    .option('--project <name>', 'project name override')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .option('--json', 'same as --format json')
    .addHelpText(
      'after',
      `
Keys of .cilo/config.yml: project, compose_files, env_files, dns_suffix, default_environment,
default_ingress_service, hostnames, copy_dot_dirs, ignore_dot_dirs, shared_grace_period, and env:
  copy_mode: all | none | allowlist   which env files (.env, .env.*, *.env) create keeps
  copy: [globs]                       with allowlist: the env files to keep
  ignore: [globs]                     files never kept in the workspace
  init_hook: "shell command"          run in the workspace (sh -c) on the first up, and again when it
                                      changes, before rendering; its output is never shown
  render:                             rewrite env files in the workspace at every up (idempotent)
    - file: .env
      tokens: true                    replace \${CILO_PROJECT} \${CILO_ENV} \${CILO_DNS_SUFFIX} \${CILO_BASE_URL}
      replace: [{from: "localhost", to: "db.\${CILO_ENV}\${CILO_DNS_SUFFIX}"}]
Unknown keys and wrong types are refused.`,
    )
    .action(lazy(() => import('./commands/config.js')));

  const hostnames = program
    .command('hostnames')
    .description("custom hostnames of an environment's ingress service (<hostname>.<env><suffix>)")
    .addHelpText('after', '\nA hostname is one or more DNS labels (lowercase letters, digits, "-"), such as "admin" or "api.v2";\nit resolves at once to the ingress IP, and `up` keeps it.');
  hostnames
    .command('list')
    .description('list the hostnames of an environment')
    .argument('<env>', 'environment name')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/hostnames.js').then((m) => ({ default: m.list }))));
  hostnames
    .command('add')
    .description('add hostnames to an environment')
    .argument('<env>', 'environment name')
    .argument('<hostnames...>', 'hostnames to add')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/hostnames.js').then((m) => ({ default: m.add }))));
  hostnames
    .command('remove')
    .alias('rm')
    .description('remove hostnames added with `cilo hostnames`')
    .argument('<env>', 'environment name')
    .argument('<hostnames...>', 'hostnames to remove')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/hostnames.js').then((m) => ({ default: m.remove }))));
  hostnames
    .command('set')
    .description('replace the custom hostnames with those given and those of --file')
    .argument('<env>', 'environment name')
    .argument('[hostnames...]', 'hostnames')
    .option('--file <file>', 'file with one hostname per line (# starts a comment; "-" reads stdin)')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/hostnames.js').then((m) => ({ default: m.set }))));

  program
    .command('diff')
    .description('show what was changed in an environment\'s workspace against its source')
    .argument('<env>', 'environment name')
    .option('--stat', 'show a summary of the changes (as git diff --stat) instead of the patch')
    .option('--name-only', 'show only the names of the changed files, one per line')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nShows the patch of the workspace against the source, as git diff: committed and uncommitted changes\n(new files too) of the workspace repository and of every repository nested in it, each against the\nsource repository at the same place, after a summary of the commits the source does not have. Other\nprojects: added, changed and removed files (env files handled by the env settings are not compared).')
    .action(lazy(() => import('./commands/diff.js').then((m) => ({ default: m.diff }))));

  program
    .command('merge')
    .description('bring the commits of an environment\'s workspace into the source repository')
    .argument('<env>', 'environment name')
    .option('--ff-only', 'refuse unless the source can be fast-forwarded')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', "\nFor the workspace repository and every repository nested in it: fetches the workspace's branch into\nthe source repository at the same place and merges it into the checked-out branch (fast-forward when\npossible). Refuses before merging anything when a source repository has uncommitted changes. Git only.")
    .action(lazy(() => import('./commands/diff.js').then((m) => ({ default: m.merge }))));

  const network = program.command('network').description('base subnet ranges, DNS port and the subnets of environments');
  network
    .command('status')
    .description('show the base ranges, the DNS port, and each environment\'s subnet and IPs')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/network.js').then((m) => ({ default: m.status }))));
  network
    .command('migrate')
    .description('move every environment to a new base range (running ones are restarted)')
    .argument('[cidr]', 'new base range, e.g. 10.225.0.0/16 (default: keep the range, move only environments outside it)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nEach environment gets a new /24 in the range, keeping its services\' host numbers; a range that\noverlaps a Docker network cilo does not manage is refused. Interrupted? Run it again: it resumes.')
    .action(lazy(() => import('./commands/network.js').then((m) => ({ default: m.migrate }))));
}
