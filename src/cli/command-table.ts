/**
 * Every command of cilo, declared as data: name, arguments, options, help, and the module that
 * runs it (imported only when it runs, so `cilo --version` and `--help` stay cheap). main.ts
 * turns the table into the commander tree; completion reads it too.
 */
import { Argument, Option } from 'commander';
import { args, options as o } from './options.js';

/** A command's code: its arguments in order, then its options; a number is the exit status. */
type Handler = (...values: never[]) => Promise<number | void>;

export interface CommandDef {
  /** Space-separated path: `up`, `dns start`. */
  name: string;
  description: string;
  alias?: string;
  hidden?: boolean;
  args?: readonly Argument[];
  options?: readonly Option[];
  /** Shown after the options in `--help`. */
  help?: string;
  /** The last argument takes the rest of the line for another program; see pass-through.ts. */
  passThrough?: boolean;
  /** Skips reaping expired shared services first (the DNS server reaps itself; completion must be quick). */
  skipReap?: boolean;
  /** Absent for a group of subcommands (`dns`, `shared`...). */
  load?: () => Promise<Handler>;
}

/**
 * As written in the table below: arguments and options are made on first use, so a command
 * builds only its own (`--help` and completion build them all).
 */
type Declared = Omit<CommandDef, 'args' | 'options'> & { args?: () => readonly Argument[]; options?: () => readonly Option[] };

function declared(d: Declared): CommandDef {
  const { args: makeArgs, options: makeOptions, ...rest } = d;
  let a: readonly Argument[] | undefined;
  let o: readonly Option[] | undefined;
  return {
    ...rest,
    get args() {
      return (a ??= makeArgs?.());
    },
    get options() {
      return (o ??= makeOptions?.());
    },
  };
}

const CONFIG_HELP = `
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
Unknown keys and wrong types are refused. \`--format yaml\` prints a valid config file (the
directory and file it was read from as a comment).`;

const FORK_HELP = `
What is copied, and how:
  workspace    the source's workspace whole, uncommitted work and dot-directories included
               (copy-on-write clones where the file system allows)
  volumes      each named volume of the source's compose project, while the source's containers
               are frozen (docker pause) and thawed right after, whatever happens. A copy of a
               frozen data directory is what a crash leaves: databases recover (postgres replays
               its WAL). Method: reflink (Docker's data root clones files: XFS, btrfs), copy
               (cp -a: owners, modes, symlinks, holes), or container (a helper container of the
               service's own image, where cilo cannot reach the volume's directory: not root, a
               remote or desktop engine; CILO_VOLUME_COPY=container forces it)
  datasets     private datasets in shared engines, the source's sessions left alone: postgres a
               file copy (CREATE DATABASE ... TEMPLATE) while the source database has no session,
               else pg_dump | psql (one consistent snapshot, read while its sessions go on);
               mariadb a dump (--single-transaction); redis the keys of its index
A fork that fails removes everything it made; one killed half way is finished off by
\`cilo doctor --fix\` (which also thaws the source). An environment on a remote host
(\`cilo host\`) is forked on that host, its volumes copied by a helper container there.

Examples:
  cilo fork main try-migration --up
  cilo fork --from-snapshot main-before-migration retry --json`;

const SNAPSHOT_HELP = `
Snapshots live in $CILO_HOME/snapshots/<name>/ (mode 0700): snapshot.json and a copy of each
volume; dataset copies stay in their shared engine (marked as the snapshot's). Destroying the
environment keeps its snapshots; \`cilo snapshot rm\` removes one. Not for an environment on a
remote host (\`cilo host\`): fork it instead, which copies it on the host.

Examples:
  cilo snapshot create main --name before-migration
  cilo snapshot restore main before-migration
  cilo fork --from-snapshot before-migration other`;

const RESTORE_HELP = `
The environment's containers are stopped (dependents first), its volumes emptied and filled from
the snapshot, and each private dataset replaced by a copy of the snapshot's: the copy is made
beside the dataset and takes its place only once complete, so a copy that fails leaves the
dataset as it was. Then the containers that ran are started again in their depends_on order,
each service running (and healthy, where it has a healthcheck) before the next starts, as \`up\`
waits; one that does not come back ends the restore with exit 1, naming it. An environment
paused by \`down --pause\` is paused again.

A snapshot taken from another environment is refused unless --from-other is given (on a
terminal, you are asked first); nothing is touched when refused.

Examples:
  cilo snapshot restore main before-migration
  cilo snapshot restore retry main-before-migration --from-other`;
const ROUTER_HELP = `
Where the host cannot reach container addresses (Docker Desktop, Colima, rootless Docker, a
remote host over SSH), cilo runs one small Caddy container per engine, publishing only on
127.0.0.1 (the router's HTTP and HTTPS ports, \`cilo init --router-http-port/--router-https-port\`),
and connected to each running environment's network (at its .9 address). It serves, by Host
header and by SNI (certificates from cilo's CA):
  <project>.<env><suffix> and *.<project>.<env><suffix>   the ingress
  <service>.<env><suffix>                                the service, on its port (80 by default)
  <hostname>.<env><suffix>                               the ingress, or the service it belongs to
Routes follow up, down, pause, destroy and \`cilo hostnames\` at once, pushed live (no restart);
the router is made with the first environment that needs it and removed with the last.
Mode (\`cilo init --routing\`): direct, router, or auto (the first up on an engine tries to connect
to a container's address, and picks router when it cannot). CILO_ROUTER_IMAGE replaces the image
(default caddy:2-alpine). \`cilo doctor\` checks the router, its routes and its ports.`;
const WORKSPACE_HELP = `Workspace: a new environment runs on a copy of the project under CILO_HOME, or with --in-place
(or \`workspace: in-place\` in .cilo/config.yml) on the project directory itself: bind mounts point
into it, so edits are live; its network, names, volumes and datasets are still its own. Inside a
linked git worktree (\`git worktree add\`) in place is the default (--copy makes a copy). destroy
never removes or changes anything in an in-place tree; merge is refused there (the work is in it).
An environment keeps the mode it was created with.`;

const ONE_AT_A_TIME = `
One command at a time per environment name: run at once, a second up, create or run of the same
new name waits for the first and is given what it made (create refuses a name that existed
before it started).`;

const RUN_HELP = `
cilo's own options go before <command>, or right after <env> up to the first other word or "--"
(which is dropped); everything after that goes to the command untouched. It runs in the workspace
with stdin and the terminal inherited; signals are forwarded, and cilo exits with its status
(128+N when killed by signal N; 127 when it is not found). An environment whose services all run
is used as it is; \`cilo up <env>\` applies changes to its compose files.

Variables: CILO_ENV, CILO_PROJECT, CILO_WORKSPACE, CILO_BASE_URL (http://<project>.<env><suffix>),
CILO_DNS_SUFFIX, for each service CILO_SERVICE_<NAME>_URL and CILO_SERVICE_<NAME>_IP
(name upper-cased, "-" and "." become "_"), and CILO_MANIFEST: the path of a private file holding
the environment's manifest (see \`cilo up --help\`). With --auto-name, <env> is a prefix and the
name chosen is printed on stderr.

Examples:
  cilo run npm agent-1 test
  cilo run --no-up sh agent-2 -c 'echo $CILO_BASE_URL'
  cilo run sh agent-3 --from ../app -- -c 'echo $CILO_WORKSPACE'
  cilo run ./scripts/e2e.sh pr-42 -- --headless`;

const PROJECT_OPTION = 'project name (default: .cilo/config.yml project, else the directory name); an existing environment\'s must match';

const PROJECT_HELP = `
A project is its name and its source directory. The name (--project, else \`project:\` in
.cilo/config.yml, else the directory's name) belongs to the first directory that makes an
environment with it, for as long as the project has environments: another directory with the same
name is refused before anything is made (give it its own: --project NAME, or \`project: NAME\` in
its .cilo/config.yml), so two folders never share environments or shared services.`;

const MANIFEST_HELP = `
--json prints one document, the manifest "cilo.manifest/1" (docs/manifest.schema.json): env, project,
status, problems [{service, reason}] (why status is degraded: a service exited, other than a one-shot job
that completed, or keeps restarting), workspace, base_url, dns {suffix, server {address, port, running},
system_resolver}, network, subnet, services [{name, type, ip, port, url, ip_url, container, state, health,
ready_by, environment, replicas? (a scaled service: its own fields are its first replica's)}],
variables (CILO_*), timings (the phases of this up; null from status). A failure prints
{"ok": false, "code", "message", "hint"} (with "service" and its last "logs" lines when one failed)
and exits 1. \`up\` shows its progress on stderr (with --json too): a live view of its steps and
services on a terminal, one plain line per step with its duration elsewhere.`;

const HOST_HELP = `
A first \`host add\` shows the host key's fingerprint and stops; compare it with the host's
(\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` there) and run it again with
--accept-host-key SHA256:.... A key your own SSH already trusts (~/.ssh/known_hosts or
known_hosts2 lists it) is trusted without it, and add says so; a different key listed there is
refused. Keys are kept in $CILO_HOME/hosts/known_hosts and checked on every connection
(StrictHostKeyChecking=yes). One SSH connection per host is reused (ControlMaster). A failed add
leaves nothing behind (the key it trusted, $CILO_HOME/hosts/<name>/, the record).

Then \`cilo up <env> --host <name>\` runs an environment there: its workspace is synced to the
host before each up (rsync, else tar over SSH), and every other command works on it as on a
local one. With --transport wireguard, names such as api.<env>.test answer from this machine
(cilo's DNS server gives the container's address, routed through the tunnel).

Examples:
  cilo host add box ssh://me@box.example
  cilo host add box ssh://me@box.example --accept-host-key SHA256:abc... --transport wireguard
  cilo up agent-1 --host box`;

const MCP_HELP = `
Tools: list_environments, up (returns the manifest; progress notifications with a progressToken),
status, urls, logs (capped, tail kept), exec (argv array; exit code, capped output, timeout), down
(pause), and destroy (only with --allow-destroy; confirm must repeat the environment name). Every
tool works on the served project only. A failure is a tool error carrying cilo's
{"ok": false, "code", "message", "hint"}: bad arguments too (code USAGE, naming the argument;
an argument a tool does not take is refused). stdout carries only the protocol; logs go to stderr.
Register it: \`cilo mcp --print-config\`.`;

const HOOK_HELP = `
Claude Code runs these with a JSON payload on stdin (unknown fields are ignored):
  worktree-create reads "name" (or "worktree_name", else the last part of "worktree_path") and "cwd"
    (the repository; else $CLAUDE_PROJECT_DIR, else the current directory). In a git repository it
    makes a git worktree ("worktree_path", else <repo>/.claude/worktrees/<name>, -2, -3... when
    taken; branch worktree-<name>) with the environment <name> in place on it; elsewhere an
    environment on a copy. It prints only that path.
  worktree-remove reads "worktree_path" (or "path"): the environments in place on that worktree are
    destroyed and the worktree is left to git. One on a copy is destroyed unless the copy has
    uncommitted changes or commits the source does not have (then a message on stderr, exit 0:
    \`cilo merge <env>\` first).
Install both with \`cilo hook claude install\`.`;

const COMPLETION_HELP = `
Environment and service names are completed from cilo's state. Load the script:
  bash:  source <(cilo completion bash)        (in ~/.bashrc)
  zsh:   source <(cilo completion zsh)         (in ~/.zshrc, after compinit)
  fish:  cilo completion fish | source         (in ~/.config/fish/config.fish)`;

const UI_HELP = `
The dashboard listens on 127.0.0.1 only and prints its URL with a random token after "#token=";
the page trades the token for an HttpOnly, SameSite=Strict cookie. Requests whose Host is not
127.0.0.1:PORT (DNS rebinding) and POSTs from another Origin are refused; no CORS headers.
The page updates live; its buttons run the same code as \`cilo up/down/destroy/doctor\`.

Examples:
  cilo ui --open                 this project's environments, in the browser
  cilo ui --all --detach         every project, in the background (cilo ui stop ends it)`;

const CAPACITY_HELP = `Memory budget (cilo init --memory-budget): before anything is made, up estimates the environment's
memory (what it used when last measured, else its services' mem_limit / deploy limits, else what
other environments measured for the image, else 256 MB per service) and refuses (code CAPACITY)
when it exceeds the budget less what cilo's environments use now; --wait-for-capacity waits.

Idle pause (--idle-pause, idle_pause: in .cilo/config.yml, cilo init --idle-pause): the DNS server
pauses an environment nobody used for that long (as down --pause: memory kept, CPU freed) and
status shows "paused (idle)". A DNS query for one of its names, a request through the router,
up, exec, run or the MCP exec tool wakes it; logs -f and other MCP calls naming it count as use.
Each up resolves it again (flag, then config, then the home's default); an environment paused
by down --pause stays paused until up.`;

const INIT_HELP = `
Routing (kept in CILO_HOME's state; run init again to change it):
  direct   the host reaches containers at their addresses (Linux with a root engine), names
           resolve to them, URLs carry the container port: http://web.<env>.test:3000
  router   one proxy container per engine publishes on 127.0.0.1 only and routes by name;
           names resolve to 127.0.0.1, URLs are http(s)://web.<env>.test[:port]. For Docker
           Desktop, Colima, rootless Docker and remote hosts
  auto     router where this machine cannot reach container addresses, else direct (default)
Ports 80/443 taken, or not allowed (rootless engines cannot publish ports below 1024): init says
so; choose others with --router-http-port and --router-https-port. Changing routing while
environments run is allowed: their routes and URLs follow at their next \`cilo up\`.

Examples:
  cilo init --routing router --dns-suffix .localhost       http://web.<env>.localhost, no DNS set-up
  cilo init --router-http-port 8080 --router-https-port 8443
  cilo init --memory-budget 60%                             up refuses environments that do not fit (see up --help)
  cilo init --idle-pause 30m                                environments unused for 30 minutes are paused (see up --help)`;

const TABLE: readonly Declared[] = [
  {
    name: 'init',
    description: 'create CILO_HOME and its state (idempotent, needs no root)',
    options: () => [
      o.repeatable('--base-subnet <cidr>', 'base range for environment subnets: a CIDR such as 10.224.0.0/16, or a prefix such as 10.224. (repeatable)'),
      o.whole('--dns-port <port>', 'port of the DNS server on 127.0.0.1'),
      new Option('--force', 'take a base range outside the private ones (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)'),
      new Option('--routing <mode>', 'how this machine reaches environments: auto, direct (container addresses) or router (a proxy on 127.0.0.1); default auto'),
      o.whole('--router-http-port <port>', "the router's HTTP port on 127.0.0.1 (default 80)"),
      o.whole('--router-https-port <port>', "the router's HTTPS port on 127.0.0.1 (default 443)"),
      new Option('--dns-suffix <suffix>', "DNS suffix of projects whose .cilo/config.yml names none (default .test; .localhost needs no resolver set-up)"),
      new Option('--memory-budget <size>', "memory `up` admits environments within: a size (6g, 512m), a percent of the engine's memory (60%), or none to remove it (default none)"),
      new Option('--idle-pause <duration>', 'default idle pause of environments whose up and .cilo/config.yml give none: 30s, 10m, 1h, or 0 for off (default off; init without it keeps it)'),
      o.json(),
    ],
    help: INIT_HELP,
    load: () => import('./commands/init.js').then((m) => m.default),
  },
  {
    name: 'create',
    description: 'create an environment: allocate a subnet and copy the project into a workspace',
    args: () => [args.env()],
    options: () => [
      o.from('project directory to copy (default: current directory)'),
      o.project(PROJECT_OPTION),
      new Option('--empty', 'create an empty workspace instead of copying the project'),
      o.repeatable('--include <glob>', 'copy only files matching GLOB, as the original cilo (repeatable; a name such as *.go matches at any depth, a path such as src/** from the project root; .cilo and the compose and env files are always copied)'),
      o.inPlace(),
      o.copy(),
      o.autoName(),
      o.host(),
      o.json(),
    ],
    help: `${PROJECT_HELP}\n${ONE_AT_A_TIME}\n\n${WORKSPACE_HELP}\n\nA copy takes every file git tracks, dot-directories such as .github/ included, so a fresh workspace's git status\nis clean; untracked files in dot-directories are skipped except in .git, .cilo and copy_dot_dirs.\ncilo's own .cilo/meta.json is listed in the workspace's .git/info/exclude.`,
    load: () => import('./commands/create.js').then((m) => m.default),
  },
  {
    name: 'up',
    description: 'start an environment (creating it first if needed) and wait until its services are ready: running (healthy, with a healthcheck) and staying up, or one-shot jobs exited 0; a crash loop fails at once',
    args: () => [args.env()],
    options: () => [
      o.from(),
      o.project(PROJECT_OPTION),
      new Option('--build', 'build images before starting'),
      new Option('--recreate', 'recreate containers even if their definition did not change (and a shared service whose definition changed)'),
      o.repeatable('--shared <service>', 'share this service (repeatable; comma-separated lists too)'),
      o.repeatable('--isolate <service>', 'give this environment its own copy of this service even if labelled cilo.share (repeatable; comma-separated lists too)'),
      o.repeatable('--profile <name>', 'enable a compose profile, as `docker compose --profile` (repeatable; remembered by later ups; `--profile ""` clears)'),
      new Option('--db-from <env>', "start a new environment's private datasets as copies of another environment's (of the same project; refused for an environment that already has its datasets)"),
      o.whole('--timeout <seconds>', 'how long to wait for services to be running and healthy').default(180),
      o.whole('--wait-for-capacity [seconds]', 'under a memory budget (cilo init --memory-budget), wait up to SECONDS (default 600) for room instead of refusing'),
      new Option('--idle-pause <duration>', 'pause the environment after this long unused (no DNS query, router request, exec, run, logs -f or MCP call): 30s, 10m, 1h; 0 turns it off; remembered by later ups (default: idle_pause of .cilo/config.yml, else cilo init --idle-pause, else off)'),
      o.inPlace(),
      o.copy(),
      o.autoName(),
      o.host(),
      o.json('print the manifest (cilo.manifest/1) once the environment is ready, or a failure document'),
      o.showSecrets(),
    ],
    help: `${MANIFEST_HELP}\n${PROJECT_HELP}\n${ONE_AT_A_TIME}\n\n${WORKSPACE_HELP}\n\n${CAPACITY_HELP}`,
    load: () => import('./commands/up.js').then((m) => m.default),
  },
  {
    name: 'down',
    description: 'stop an environment, keeping its containers, workspace, network and volumes',
    args: () => [args.env()],
    options: () => [
      o.project(),
      new Option('--pause', 'freeze the containers instead of stopping them: they keep their memory and their shared services, and the next `up` resumes them in about a second or less'),
      o.json('print what was stopped as JSON: {env, project, status, services, released_shared, warnings}'),
    ],
    load: () => import('./commands/down.js').then((m) => m.default),
  },
  {
    name: 'destroy',
    description: 'remove an environment: containers, volumes, network, DNS names, workspace and its private datasets (dropped); shared services are released, not removed',
    args: () => [args.optionalEnv()],
    options: () => [
      new Option('--all', 'destroy every environment (of --project, if given)'),
      o.project(),
      o.force('do not ask for confirmation (required without a terminal)'),
      new Option('--keep-workspace', 'keep the workspace directory'),
      new Option('--forget', 'an environment whose host does not answer: remove only what is on this machine (its containers there stay)'),
      o.json('print what was destroyed as JSON: {destroyed: [{env, project, workspace, workspace_kept}], warnings}'),
    ],
    help: '\nWith --all, an environment that cannot be removed (a host that does not answer, say) does not stop the\nothers: each is named with its reason at the end, and the exit status is 1. An up or create of an\nenvironment running at that moment finishes first.',
    load: () => import('./commands/destroy.js').then((m) => m.default),
  },
  {
    name: 'list',
    alias: 'ls',
    description: 'list the environments of the current project (or of every project), whatever their status',
    options: () => [new Option('--all', 'list environments of every project (not a status filter: stopped and paused ones are always listed)'), o.project('list environments of this project'), o.format(['table', 'json', 'quiet']), o.jsonFormat()],
    help: '\nEvery environment is listed whatever its status (running, stopped, paused...), in every format, since a\nstopped one still holds its workspace, subnet and volumes; the status column (and "status" in JSON) tells them apart.\nJSON (--format json or --json): an array of environments, each {name, project, status, problems, subnet, network,\nsource, workspace, dns_suffix, url, urls: {http, https}, routing, created_at, last_error?, services: [{name, type, ip, url, urls, state}]}.\nurl is through the router in router mode (https too); direct: the name with the container port, https null.\nstatus is degraded (and problems names each service and why: "exited with code 1", "keeps restarting (5 restarts)")\nwhile a service has exited, other than a one-shot job that completed (exit 0 under restart no or on-failure), or keeps restarting.',
    load: () => import('./commands/list.js').then((m) => m.default),
  },
  {
    name: 'top',
    description: 'show what each environment and shared service uses now: CPU, memory, block and network I/O (live on a terminal)',
    options: () => [new Option('--all', 'every project\'s environments'), o.project('environments of this project'), o.json('print one snapshot as JSON'), new Option('--once', 'print one snapshot and exit (also when stdout is not a terminal)'), o.whole('--interval <seconds>', 'seconds between refreshes of the live view (default 2)')],
    help: '\nSummed from the Engine\'s stats of each environment\'s containers; a shared service is counted once, on its own\nrow, with the environments that use it. CPU is percent of one CPU (200% = two busy CPUs); memory leaves out the\npage cache the kernel can drop, as `docker stats` does. Environments on a host that does not answer are shown\n`unreachable`. JSON: {at, environments: [{name, project, host, status, containers, shared, usage}], shared:\n[{project, service, host, container, state, users, usage}], total, unreachable}; usage is {cpu_percent,\nmemory_bytes, block_read_bytes, block_write_bytes, net_rx_bytes, net_tx_bytes}.',
    load: () => import('./commands/top.js').then((m) => m.default),
  },
  {
    name: 'status',
    description: 'show an environment and its services with live container state, and the values rewritten to name its private datasets',
    args: () => [args.env()],
    options: () => [o.project(), o.json('print the manifest (cilo.manifest/1) with live states'), o.showSecrets()],
    help: MANIFEST_HELP,
    load: () => import('./commands/status.js').then((m) => m.default),
  },
  {
    name: 'logs',
    description: 'show the logs of an environment (or one service), through docker compose',
    args: () => [args.env(), args.optionalService()],
    options: () => [new Option('-f, --follow', 'follow log output'), o.whole('--tail <n>', 'number of lines from the end'), o.project()],
    help: "\nInto a pipe or a file (stdout not a terminal) the logs are plain text: terminal control sequences, such as\nthe erase-line code compose puts before every line and the services' own colours, are removed.",
    load: () => import('./commands/logs.js').then((m) => m.default),
  },
  {
    name: 'exec',
    description: 'run a command in a service container (default: sh)',
    args: () => [args.env(), args.service(), new Argument('[command...]', 'command and arguments')],
    options: () => [
      o.project(),
      new Option('-t, --tty', 'allocate a terminal when stdin is one (the default; -t=false or --tty=false: never)'),
      new Option('-i, --interactive', 'keep stdin open (the default; -i=false or --interactive=false: give the command no stdin)'),
    ],
    passThrough: true,
    help: '\ncilo\'s options go before <env>, or right after <service> up to the first other word or "--".',
    load: () => import('./commands/exec.js').then((m) => m.default),
  },
  {
    name: 'compose',
    description: 'run any docker compose command against an environment (default: ps)',
    args: () => [args.env(), new Argument('[args...]', 'docker compose arguments')],
    options: () => [o.project()],
    passThrough: true,
    help: "\ncilo's --project may stand anywhere on the line (`cilo compose agent-1 ps --project shop`, as the original\nwrote it), except where compose hands words on untouched: after `--`, and after the service of `exec` and\n`run` (the container's command). Everything else goes to docker compose as it is, its own -p/--project-name\nand --project-directory included.",
    load: () => import('./commands/compose.js').then((m) => m.default),
  },
  {
    name: 'path',
    description: "print an environment's workspace path (in place: its source directory)",
    args: () => [args.env()],
    options: () => [o.project()],
    load: () => import('./commands/path.js').then((m) => m.default),
  },
  {
    name: 'db',
    description: 'private datasets of environments in shared database engines (cilo.share.isolate)',
    help: '\nA shared service labelled `cilo.share.isolate: database` (postgres, mariadb, mysql) or `db-index` (redis, valkey)\ngives every environment its own database, cloned from a template of `cilo.share.seed`.',
  },
  {
    name: 'db list',
    description: 'list datasets: environment, service, engine, kind, name, template, size',
    args: () => [args.optionalEnv('only this environment')],
    options: () => [o.project('only this project'), o.json()],
    load: () => import('./commands/db-list.js').then((m) => m.default),
  },
  {
    name: 'db reset',
    description: "return an environment's datasets to the seed (ends only that environment's sessions)",
    args: () => [args.env(), args.optionalService('only this shared service')],
    options: () => [o.project(), o.json()],
    load: () => import('./commands/db-reset.js').then((m) => m.default),
  },
  {
    name: 'db shell',
    description: "open the engine's own client (psql, mariadb, redis-cli) on an environment's dataset",
    args: () => [args.env(), args.optionalService('the shared service (may be left out when the environment has one dataset)')],
    options: () => [o.project()],
    help: "\nRuns inside the shared engine's container, attached to this terminal. Without a terminal it reads stdin:\n  echo 'select count(*) from users' | cilo db shell agent-1",
    load: () => import('./commands/db-shell.js').then((m) => m.default),
  },
  {
    name: 'db dump',
    description: "write an environment's dataset to stdout (pg_dump, mariadb-dump; not for redis)",
    args: () => [args.env(), args.optionalService('the shared service (may be left out when the environment has one dataset)')],
    options: () => [o.project()],
    help: '\nExample: cilo db dump agent-1 db > agent-1.sql   (load it into another with `cilo db load agent-2 db < agent-1.sql`)',
    load: () => import('./commands/db-dump.js').then((m) => m.default),
  },
  {
    name: 'db load',
    description: "run SQL from stdin in an environment's dataset (a dump of `cilo db dump`; not for redis)",
    args: () => [args.env(), args.optionalService('the shared service (may be left out when the environment has one dataset)')],
    options: () => [o.project()],
    help: '\nExample: cilo db load agent-2 db < agent-1.sql   (stops at the first error; the dataset keeps what ran before it)',
    load: () => import('./commands/db-load.js').then((m) => m.default),
  },
  { name: 'host', description: 'remote Docker engines (over SSH) that environments can run on' },
  {
    name: 'host add',
    description: 'add a remote Docker engine reached over SSH (checks its key, engine and compose; gives it a subnet range)',
    args: () => [new Argument('<name>', 'a name for the host'), new Argument('<target>', 'ssh://user@host[:port], or a Docker context whose endpoint is one')],
    options: () => [
      new Option('--transport <transport>', 'how this machine reaches the containers\' addresses: wireguard (a tunnel; root on both sides) or ssh (no root: engine and names only)').choices(['ssh', 'wireguard']).default('ssh'),
      new Option('--accept-host-key <fingerprint>', 'trust the host key with this SHA256 fingerprint (shown by a first `host add`)'),
      new Option('-i, --identity <file>', 'private key for SSH (default: SSH\'s own)'),
      new Option('--subnet <cidr>', 'range for the host\'s environments (default: a free /18 of 10.225.0.0-10.231.255.255)'),
      new Option('--force', 'take a --subnet outside the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)'),
      new Option('--remote-socket <path>', 'the engine\'s socket on the host').default('/var/run/docker.sock'),
      o.whole('--socks-port <port>', 'port of the SOCKS5 proxy on 127.0.0.1 through the host (default: a free one; when another program has it, a free one, said and recorded)'),
      o.json(),
    ],
    help: HOST_HELP,
    load: () => import('./commands/host.js').then((m) => m.add),
  },
  {
    name: 'host list',
    description: 'list the remote hosts: SSH destination, transport, range, environments',
    options: () => [o.json()],
    load: () => import('./commands/host.js').then((m) => m.list),
  },
  {
    name: 'host status',
    description: 'check a host: does its engine answer over SSH, is the tunnel up',
    args: () => [args.host()],
    options: () => [o.json()],
    load: () => import('./commands/host.js').then((m) => m.status),
  },
  {
    name: 'host rm',
    description: 'remove a host no environment uses (its tunnel and SSH connection too)',
    args: () => [args.host()],
    options: () => [o.json()],
    load: () => import('./commands/host.js').then((m) => m.rm),
  },
  {
    name: 'fork',
    description: "make a new environment from another's workspace, volumes and datasets (or from a snapshot), the source kept running",
    args: () => [args.env('environment to copy (with --from-snapshot: the new name)'), new Argument('[new]', 'name of the new environment')],
    options: () => [
      new Option('--from-snapshot <name>', 'copy a snapshot (`cilo snapshot list`) instead of a live environment'),
      new Option('--up', 'start the new environment once it is made'),
      o.project(),
      o.json(),
    ],
    help: FORK_HELP,
    load: () => import('./commands/fork.js').then((m) => m.default),
  },
  { name: 'snapshot', description: "snapshots of an environment's volumes and datasets, to go back to or fork from", help: SNAPSHOT_HELP },
  {
    name: 'snapshot create',
    description: "copy an environment's volumes (its containers frozen meanwhile) and datasets into a snapshot",
    args: () => [args.env()],
    options: () => [new Option('--name <name>', 'name of the snapshot (default: <env>-<UTC date-time>)'), o.project(), o.json()],
    load: () => import('./commands/snapshot-create.js').then((m) => m.default),
  },
  {
    name: 'snapshot list',
    description: 'list snapshots: name, environment, project, created, volumes, datasets',
    options: () => [new Option('--env <env>', 'only the snapshots of this environment'), o.json()],
    load: () => import('./commands/snapshot-list.js').then((m) => m.default),
  },
  {
    name: 'snapshot rm',
    description: "remove a snapshot: its volume copies under CILO_HOME and its datasets' copies",
    args: () => [new Argument('<name>', 'snapshot name')],
    options: () => [o.json()],
    load: () => import('./commands/snapshot-rm.js').then((m) => m.default),
  },
  {
    name: 'snapshot restore',
    description: "put an environment's volumes and datasets back to a snapshot (its containers are stopped meanwhile, then started again in depends_on order)",
    args: () => [args.env(), new Argument('<name>', 'snapshot name')],
    options: () => [
      new Option('--from-other', "restore a snapshot taken from another environment (its data replaces this one's; without it: refused, or asked on a terminal)"),
      o.whole('--timeout <seconds>', 'how long to wait for each service to be running and healthy again').default(180),
      o.project(),
      o.json(),
    ],
    help: RESTORE_HELP,
    load: () => import('./commands/snapshot-restore.js').then((m) => m.default),
  },
  { name: 'shared', description: 'shared services: one container serving many environments' },
  {
    name: 'shared list',
    description: 'list shared services (container, users, grace deadline, config hash, private datasets and their sizes) and the shared volumes and dataset templates nothing uses any more',
    options: () => [o.project('only this project'), o.json()],
    load: () => import('./commands/shared-list.js').then((m) => m.default),
  },
  {
    name: 'shared stop',
    description: 'stop and remove a shared service container now (its volumes stay)',
    args: () => [args.sharedService()],
    options: () => [
      o.project("project of the service (default: the current directory's, or the only one that has it)"),
      o.force('stop it even while environments use it'),
      new Option('--host <name>', "the remote host's shared container (default: this machine's)"),
      o.json('print what was stopped as JSON: {service, project, host, detached, warnings}'),
    ],
    load: () => import('./commands/shared-stop.js').then((m) => m.default),
  },
  {
    name: 'shared rm',
    description: 'remove the volumes and dataset templates a shared service left, or with --unused every one nothing uses',
    args: () => [new Argument('[service]', 'shared service whose volumes and templates to remove (refused while any is in use)')],
    options: () => [
      new Option('--unused', 'remove every shared volume and dataset template that nothing uses'),
      o.project('only this project (with a service: the project of the service, when several have one)'),
      o.force('remove without asking (needed when there is no terminal)'),
      o.json(),
    ],
    help: '\nA volume is in use while its shared service is held or kept for its grace period, or while any environment\nof its project exists (its next up brings the service back with that data). A template is in use while an\nenvironment\'s dataset was made from it. `cilo shared list` shows what is unused; nothing in use is removed.',
    load: () => import('./commands/shared-rm.js').then((m) => m.default),
  },
  {
    name: 'doctor',
    description: 'check the engine, DNS server, state against Docker, orphans and shared services',
    options: () => [new Option('--fix', 'repair what can be repaired safely'), new Option('--force', 'with --fix, also delete workspaces and volumes that may hold data'), o.json('print the report as JSON')],
    help: '\nExit status: 0 when no problem is left (none found, or all fixed), 1 when any remains (the original\ncilo exited 0 either way), so `cilo doctor || cilo doctor --fix` works in scripts. With --json the\nreport is printed in both cases; its "ok" field says the same.',
    load: () => import('./commands/doctor.js').then((m) => m.default),
  },
  {
    name: 'dns',
    description: 'the DNS server on 127.0.0.1 and the system resolver configuration',
    help: '\nNames served: <service>.<env><suffix>, <project>.<env><suffix> and *.<project>.<env><suffix>, <hostname>.<env><suffix>. A query for a name of an idle-paused environment wakes it and is answered once it runs.',
  },
  {
    name: 'dns start',
    description: 'start the DNS server in the background (no-op if it already runs)',
    options: () => [o.json()],
    load: () => import('./commands/dns-start.js').then((m) => m.default),
  },
  { name: 'dns stop', description: 'stop the DNS server', options: () => [o.json()], load: () => import('./commands/dns-stop.js').then((m) => m.default) },
  {
    name: 'dns status',
    description: 'show whether the DNS server runs and answers',
    options: () => [o.json()],
    load: () => import('./commands/dns-status.js').then((m) => m.default),
  },
  {
    name: 'dns logs',
    description: "print the DNS server's log ($CILO_HOME/dns/dns.log)",
    options: () => [o.whole('--tail <n>', 'only the last N lines'), new Option('-f, --follow', 'keep printing lines as the server writes them (Ctrl-C stops)')],
    load: () => import('./commands/dns-logs.js').then((m) => m.default),
  },
  {
    name: 'dns setup',
    description: 'route the DNS suffix(es) of the system resolver to cilo (needs root, or --print-manual)',
    options: () => [
      new Option('--print-manual', 'print the steps instead of doing them (needs no root)'),
      new Option('--dns-suffix <suffix>', 'a suffix to route in addition to .test, the home\'s and those of existing environments (.localhost needs none)'),
      o.json(),
    ],
    load: () => import('./commands/dns-setup.js').then((m) => m.default),
  },
  {
    name: 'dns uninstall',
    description: 'remove the system resolver configuration written by `cilo dns setup`',
    options: () => [o.json()],
    load: () => import('./commands/dns-uninstall.js').then((m) => m.default),
  },
  {
    name: 'trust',
    description: "add cilo's local CA (HTTPS through the router) to this system's trust stores",
    options: () => [
      new Option('--print', "print the CA certificate's path (made if there is none yet) and change nothing"),
      new Option('--remove', 'take the CA out of the trust stores it was added to'),
      o.json(),
    ],
    help: `
The CA is made once per CILO_HOME ($CILO_HOME/ca/cilo-ca.crt; its key, cilo-ca.key, is readable by you
only). Stores: Debian/Ubuntu (update-ca-certificates), Fedora/RHEL (update-ca-trust), macOS's System
keychain (security add-trusted-cert), and your NSS databases (~/.pki/nssdb for Chromium, Firefox's
profiles; with certutil). A store cilo may not change (no root) or lacks a program for is listed with the
exact commands to run. Exit status 1 only when this system has no store cilo knows.`,
    load: () => import('./commands/trust.js').then((m) => m.default),
  },
  // The background process itself, started by `cilo dns start`; not for users.
  {
    name: 'dns serve',
    hidden: true,
    skipReap: true,
    description: 'run the DNS server in the foreground',
    options: () => [new Option('--token <token>', 'start token chosen by `cilo dns start`')],
    load: () => import('./commands/dns-serve.js').then((m) => m.default),
  },
  {
    name: 'ui',
    description: 'a live dashboard in the browser: environments, services, what each uses (as `cilo top`), logs, shared services, doctor',
    options: () => [
      o.whole('--port <port>', 'port on 127.0.0.1 (default: a free one)'),
      new Option('--open', 'open the dashboard in the browser'),
      o.project('show only this project (default: the current directory\'s project, else all)'),
      new Option('--all', 'show every project'),
      new Option('--detach', 'run in the background, one server per CILO_HOME (one already running is reported; stop it with `cilo ui stop`); prints the URL'),
      o.json('print the URL, port and pid as JSON'),
      new Option('--instance <token>', 'start token chosen by `cilo ui --detach`').hideHelp(),
    ],
    help: UI_HELP,
    load: () => import('./commands/ui.js').then((m) => m.default),
  },
  {
    name: 'ui stop',
    description: 'stop the dashboard started with `cilo ui --detach`',
    options: () => [o.json()],
    load: () => import('./commands/ui.js').then((m) => m.stop),
  },
  {
    name: 'ui status',
    description: 'show whether the background dashboard runs, and its URL (exit status 1 when it does not)',
    options: () => [o.json()],
    load: () => import('./commands/ui.js').then((m) => m.status),
  },
  {
    name: 'run',
    description: "run a command in an environment's workspace with CILO_* variables, creating and starting the environment if needed",
    args: () => [new Argument('<command>', 'program to run (searched in PATH; not a shell line)'), args.env(), new Argument('[args...]', 'arguments for the command, passed untouched')],
    options: () => [o.from(), o.project(PROJECT_OPTION), new Option('--no-up', 'do not start the environment (it is still created if missing)'), new Option('--no-create', 'fail if the environment does not exist'), o.autoName(), o.host()],
    passThrough: true,
    help: `${RUN_HELP}\n${PROJECT_HELP}`,
    load: () => import('./commands/run.js').then((m) => m.default),
  },
  {
    name: 'mcp',
    description: "serve cilo's tools to a coding agent over MCP (stdio), scoped to the current project",
    options: () => [
      o.project('serve this project (default: the current directory\'s)'),
      new Option('--all-projects', 'serve the environments of every project'),
      new Option('--allow-destroy', 'offer the destroy tool (each call must repeat the environment name in confirm)'),
      new Option('--print-config', 'print how to register this server with Claude Code, Cursor or a .mcp.json, and exit'),
    ],
    help: MCP_HELP,
    load: () => import('./commands/mcp.js').then((m) => m.default),
  },
  { name: 'hook', description: 'hooks of coding agents (Claude Code) that make and remove environments' },
  { name: 'hook claude', description: "Claude Code's WorktreeCreate and WorktreeRemove hooks" },
  {
    name: 'hook claude worktree-create',
    description: "WorktreeCreate: make a git worktree of the repository at the payload's cwd with an environment in place on it (outside git: an environment on a copy) and print its path",
    options: () => [new Option('--up', 'also start the environment (hooks have short timeouts: off by default)')],
    help: HOOK_HELP,
    load: () => import('./commands/hook.js').then((m) => m.worktreeCreate),
  },
  {
    name: 'hook claude worktree-remove',
    description: 'WorktreeRemove: destroy the environments of the given worktree (leaving it to git), or of a copy unless it holds work not merged back',
    options: () => [o.force('destroy even when the workspace holds work that is not merged back')],
    help: HOOK_HELP,
    load: () => import('./commands/hook.js').then((m) => m.worktreeRemove),
  },
  {
    name: 'hook claude install',
    description: "add both hooks to .claude/settings.json of the project (or ~/.claude/settings.json), keeping other hooks; cilo's hooks already there are updated to the options given (--up, --command)",
    options: () => [
      new Option('--user', 'write ~/.claude/settings.json instead of the project\'s'),
      o.from('project directory whose .claude/settings.json to write (default: current directory)'),
      new Option('--up', 'make the create hook start the environment too (installing again without it turns that off)'),
      new Option('--command <cilo>', 'how the hooks call cilo').default('cilo'),
      o.json(),
    ],
    load: () => import('./commands/hook.js').then((m) => m.install),
  },
  {
    name: 'setup',
    description: 'write .cilo/config.yml for the project in the current directory',
    options: () => [
      new Option('--name <project>', 'project name (default: the directory name)'),
      o.repeatable('--compose <file>', 'compose file (repeatable; default: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml, with its override file)'),
      o.repeatable('--env-file <file>', 'env file for compose interpolation (repeatable)'),
      new Option('--dns-suffix <suffix>', 'DNS suffix of the environments (default: the home\'s, from `cilo init --dns-suffix`, else .test; .localhost needs no resolver set-up)'),
      new Option('--default-env <env>', 'default environment name'),
      new Option('--build-tool <tool>', "accepted as the original cilo's (cilo always runs `docker compose`; another tool than docker is warned about, and nothing is written)"),
      o.force('replace an existing .cilo/config.yml'),
      o.json(),
    ],
    load: () => import('./commands/setup.js').then((m) => m.default),
  },
  {
    name: 'config',
    description: 'show the effective project configuration (.cilo/config.yml with defaults)',
    options: () => [o.from('project directory (default: current directory)'), o.project('project name override'), o.format(['table', 'yaml', 'json']), o.jsonFormat()],
    help: CONFIG_HELP,
    load: () => import('./commands/config.js').then((m) => m.default),
  },
  {
    name: 'hostnames',
    description: "custom hostnames of an environment's ingress service (<hostname>.<env><suffix>)",
    help: '\nA hostname is one or more DNS labels (lowercase letters, digits, "-"), such as "admin" or "api.v2";\nit resolves at once to the ingress IP, and `up` keeps it. Lists may be comma-separated: `admin,api`.',
  },
  {
    name: 'hostnames list',
    description: 'list the hostnames of an environment',
    args: () => [args.env()],
    options: () => [o.project(), o.json()],
    load: () => import('./commands/hostnames.js').then((m) => m.list),
  },
  {
    name: 'hostnames add',
    description: 'add hostnames to an environment',
    args: () => [args.env(), new Argument('<hostnames...>', 'hostnames to add (or comma-separated lists)')],
    options: () => [o.project(), o.json()],
    load: () => import('./commands/hostnames.js').then((m) => m.add),
  },
  {
    name: 'hostnames remove',
    alias: 'rm',
    description: 'remove hostnames added with `cilo hostnames`',
    args: () => [args.env(), new Argument('<hostnames...>', 'hostnames to remove (or comma-separated lists)')],
    options: () => [o.project(), o.json()],
    load: () => import('./commands/hostnames.js').then((m) => m.remove),
  },
  {
    name: 'hostnames set',
    description: 'replace the custom hostnames with those given and those of --file',
    args: () => [args.env(), new Argument('[hostnames...]', 'hostnames (or comma-separated lists)')],
    options: () => [new Option('--file <file>', 'file with one hostname per line (# starts a comment; "-" reads stdin)'), o.project(), o.json()],
    load: () => import('./commands/hostnames.js').then((m) => m.set),
  },
  {
    name: 'diff',
    description: "show what was changed in an environment's workspace against its source (in place: the tree's own changes, as git diff HEAD)",
    args: () => [args.env()],
    options: () => [
      new Option('--stat', 'show a summary of the changes (as git diff --stat) instead of the patch'),
      new Option('--name-only', 'show only the names of the changed files, one per line'),
      o.project(),
      o.json(),
    ],
    help: '\nShows the patch of the workspace against the source, as git diff: committed and uncommitted changes\n(new files too) of the workspace repository and of every repository nested in it, each against the\nsource repository at the same place, after a summary of the commits the source does not have. Other\nprojects: added, changed and removed files (env files handled by the env settings are not compared).',
    load: () => import('./commands/diff.js').then((m) => m.diff),
  },
  {
    name: 'merge',
    description: "bring the commits of an environment's workspace into the source repository (refused in place: the work is in the tree already)",
    args: () => [args.env()],
    options: () => [new Option('--ff-only', 'refuse unless the source can be fast-forwarded'), o.project(), o.json()],
    help: "\nFor the workspace repository and every repository nested in it: fetches the workspace's branch into\nthe source repository at the same place and merges it into the checked-out branch (fast-forward when\npossible). Refuses before merging anything when a source repository has uncommitted changes, when the\ncommits would delete files the workspace never received (left out by --include or the env copy policy,\nor by a cilo that skipped dot-directories), naming them, or when they add cilo's .cilo/meta.json. Git only.",
    load: () => import('./commands/diff.js').then((m) => m.merge),
  },
  {
    name: 'router',
    description: 'the loopback router: one proxy container on 127.0.0.1 serving every environment\'s names',
    help: ROUTER_HELP,
  },
  {
    name: 'router status',
    description: 'show the routing mode, the router\'s ports and container, and the routes it serves',
    options: () => [o.json()],
    help: ROUTER_HELP,
    load: () => import('./commands/router.js').then((m) => m.status),
  },
  { name: 'network', description: 'base subnet ranges, DNS port and the subnets of environments' },
  {
    name: 'network status',
    description: "show the base ranges, the DNS port, and each environment's subnet and IPs",
    options: () => [o.json()],
    load: () => import('./commands/network.js').then((m) => m.status),
  },
  {
    name: 'network migrate',
    description: 'move every environment to a new base range (running ones are restarted)',
    args: () => [new Argument('[cidr]', 'new base range: a CIDR such as 10.225.0.0/16, or a prefix such as 10.225. (default: keep the range, move only environments outside it)')],
    options: () => [new Option('--force', 'take a range outside the private ones (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)'), o.json()],
    help: "\nEach environment gets a new /24 in the range, keeping its services' host numbers; a range that\noverlaps a Docker network cilo does not manage is refused. Interrupted? Run it again: it resumes.",
    load: () => import('./commands/network.js').then((m) => m.migrate),
  },
  {
    name: 'completion',
    description: 'print a shell completion script (bash, zsh or fish)',
    args: () => [new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'])],
    skipReap: true,
    help: COMPLETION_HELP,
    load: () => import('./commands/completion.js').then((m) => m.completion),
  },
  // Called by the completion scripts: `envs`, `services <env>`, or `words -- <the line so far>`.
  {
    name: '__complete',
    hidden: true,
    description: 'print completion candidates, one a line',
    args: () => [new Argument('<what>', 'envs, services or words'), new Argument('[words...]', 'the words typed so far')],
    passThrough: true,
    skipReap: true,
    load: () => import('./commands/completion.js').then((m) => m.complete),
  },
];

export const COMMANDS: readonly CommandDef[] = TABLE.map(declared);
