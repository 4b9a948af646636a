/**
 * Private datasets in shared engines (issue #15): each environment gets its own database (or
 * redis index) inside the one shared container, cloned from a template built once per seed and
 * engine image. Every step records its intent in state first (`creating`, `dropping`), so a
 * killed command is finished by the next `up` or by `doctor --fix`.
 */
import { sameSite, type OnSite, siteKey } from '../../domain/sites.js';
import { askEachSite } from '../sites/reach.js';
import { createHash } from 'node:crypto';
import type { SiteContext } from '../sites/site.js';
import { createReadStream, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { ComposeModel } from '../../domain/compose-model.js';
import { datasetName, datasetRewrites, engineFromImage, INITDB_DIR, isolatedSeedMounts, isolationSpecs, maskedRewrite, seedHash, templateName, type IsolationSpec, type Rewrite, type SeedMount, type ServiceShareConfig } from '../../domain/datasets.js';
import { compareNames, sharedContainerName, toValidName } from '../../domain/names.js';
import { didYouMean } from '../environments/lookup.js';
import type { DatasetState, EnvironmentState, State } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { readState, withNamedLock, withStateLock } from '../../state/store.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { isoNow, type CoreContext } from '../context.js';
import type { CopyMethod, DatasetEngine, DatasetSource, SeedFile } from '../../domain/dataset-engine.js';
import { formatBytes } from '../../domain/progress.js';
import { step } from '../progress.js';

const READY_TIMEOUT_MS = 120_000;

function envOf(model: ComposeModel, service: string): Record<string, string> {
  const raw = (model.services[service]?.environment ?? {}) as Record<string, string | null>;
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The engine of a shared service, reached inside its container. */
function engineOf(ctx: SiteContext, project: string, spec: IsolationSpec, serviceEnv: Record<string, string>): Promise<DatasetEngine> {
  return ctx.datasetEngines.open(ctx.site.exec, { container: sharedContainerName(project, spec.service), engine: spec.engine, env: serviceEnv, connectionLimit: spec.connectionLimit });
}

const SEED_EXT: Record<'sql' | 'redis', RegExp> = { sql: /\.sql$/i, redis: /\.(redis|txt)$/i };

/** The seed's files in the order they are loaded: named files as given, a directory's files by name. */
export function seedFiles(workspace: string, spec: IsolationSpec): SeedFile[] {
  const ext = SEED_EXT[spec.kind === 'db-index' ? 'redis' : 'sql'];
  const out: SeedFile[] = [];
  for (const entry of spec.seed) {
    const path = isAbsolute(entry) ? entry : resolve(workspace, entry);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      // Only a missing path is "does not exist"; another failure (permissions) passes on with its path.
      if (!['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      throw new CiloError('CONFIG_INVALID', `The seed "${entry}" of shared service "${spec.service}" does not exist (looked for ${path}).`, { hint: 'Fix cilo.share.seed (paths are relative to the project directory).' });
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort(compareNames)) if (ext.test(name) && statSync(join(path, name)).isFile()) out.push({ path: join(path, name) });
    } else out.push({ path });
  }
  return out;
}

/**
 * The seeds of shared services this environment runs as its own containers (`--isolate`): the
 * same files, mounted where the engine's image runs them on its first start (postgres, mariadb,
 * mysql). A seed that cannot follow (redis has no such directory) is named in a warning.
 */
export function isolatedSeeds(ctx: CoreContext, env: EnvironmentState, model: ComposeModel, isolated: string[], config: Record<string, ServiceShareConfig> | undefined): Record<string, SeedMount[]> {
  const out: Record<string, SeedMount[]> = {};
  for (const service of isolated) {
    let spec: IsolationSpec | undefined;
    try {
      spec = isolationSpecs(model, [service], config)[0];
    } catch (e) {
      if (!(e instanceof CiloError)) throw e;
      ctx.warn(`${service} runs isolated in ${env.name}, and its seed cannot be given to it: ${e.message}`);
      continue;
    }
    if (!spec || spec.seed.length === 0) continue;
    const mounts = isolatedSeedMounts(spec, seedFiles(env.workspace, spec).map((f) => f.path));
    if (!mounts) {
      ctx.warn(`${service} runs isolated in ${env.name} (--isolate), so its seed (${spec.seed.join(', ')}) is not loaded: a ${spec.engine} image has no directory of scripts it runs on its first start. Load it into the container yourself, or let ${service} be shared.`);
      continue;
    }
    ctx.log(`${service} runs isolated in ${env.name}: its seed is mounted in ${INITDB_DIR}, which its image runs on its first start`);
    out[service] = mounts;
  }
  return out;
}

async function fileHash(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The template of a seed. Reading a 200 MB seed costs about a second, so each file's hash is
 * kept in CILO_HOME by its name in the project, size and modification time (workspace copies
 * keep modification times): a new environment of an unchanged seed reads none of it.
 */
async function templateFor(ctx: CoreContext, workspace: string, image: string, seeds: SeedFile[]): Promise<string> {
  const cacheFile = join(ctx.paths.home, 'cache', 'seed-hashes.json');
  let cache: Record<string, string> = {};
  try {
    const read: unknown = JSON.parse(readFileSync(cacheFile, 'utf8'));
    // Only a cache: what is not a record of hashes is computed again, and written anew.
    if (read !== null && typeof read === 'object' && !Array.isArray(read)) cache = Object.fromEntries(Object.entries(read).filter((x): x is [string, string] => typeof x[1] === 'string'));
  } catch {
    // none yet, or unreadable: computed again
  }
  const files: { name: string; content: string }[] = [];
  let changed = false;
  for (const seed of seeds) {
    const name = relative(workspace, seed.path);
    const st = statSync(seed.path);
    const key = `${name}\0${st.size}\0${st.mtimeMs}`;
    let hash = cache[key];
    if (!hash) {
      hash = await fileHash(seed.path);
      cache[key] = hash;
      changed = true;
    }
    files.push({ name, content: hash });
  }
  if (changed) {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileAtomic(cacheFile, JSON.stringify(cache));
  }
  return templateName(seedHash(image, files));
}

function lockName(project: string, service: string): string {
  return `dataset-${project}-${service}`;
}

/** The lock under which a shared service's templates are built (and removed: shared-leftovers.ts). */
export function templateLockName(project: string, service: string): string {
  return `${lockName(project, service)}-template`;
}

async function recordDataset(ctx: CoreContext, envName: string, service: string, change: (d: DatasetState | undefined) => DatasetState | undefined): Promise<void> {
  await withStateLock((s) => {
    const e = s.environments[envName];
    if (!e) return;
    const next = change(e.datasets?.[service]);
    const datasets = { ...(e.datasets ?? {}) };
    if (next) datasets[service] = next;
    else delete datasets[service];
    e.datasets = Object.keys(datasets).length > 0 ? datasets : undefined;
  }, ctx.paths);
}

export interface EnsureDatasetsInput {
  model: ComposeModel;
  specs: IsolationSpec[];
  /** Another environment of the project whose data a new dataset starts from (`up --db-from`). */
  dbFrom?: string | undefined;
  timeoutMs?: number | undefined;
  /**
   * The environment was paused (`down --pause`) and is being resumed: a dataset found in the
   * very shared container that still runs (same id, same start) is taken as there without
   * asking the engine (see ensureDataset).
   */
  resumed?: boolean | undefined;
}

/** What `up --db-from` is checked against before anything is made. */
export interface DbFromTarget {
  name: string;
  project: string;
  /** The host it runs (or will run) on; undefined: this machine. */
  host: string | undefined;
  /** Its record, when the environment exists already. */
  existing: EnvironmentState | undefined;
}

/**
 * `up --db-from <other>`: refuses, before anything is made, a source that cannot give data
 * (missing, another project or host, no datasets) and an environment that already has its
 * datasets (their data is kept, never replaced: saying so beats a warning on a success).
 */
export function checkDbFrom(state: State, target: DbFromTarget, rawFrom: string): void {
  const from = toValidName(rawFrom, 'environment');
  if (from === target.name) {
    throw new CiloError('USAGE', `--db-from ${from} names the environment being started itself.`, { hint: 'Name another environment of the project, whose data to copy.', exitCode: 2 });
  }
  const held = Object.entries(target.existing?.datasets ?? {});
  if (held.length > 0) {
    throw new CiloError('USAGE', `Environment "${target.name}" already has its datasets (${held.map(([service, d]) => `${service}: ${d.name}`).join(', ')}), and --db-from only fills a new environment's: its data would be kept as it is.`, {
      hint: `To start it over with ${from}'s data: \`cilo destroy ${target.name}\`, then \`cilo up ${target.name} --db-from ${from}\`. Without --db-from, \`cilo up ${target.name}\` starts it with its own data.`,
      exitCode: 2,
    });
  }
  const other = state.environments[from];
  if (!other) {
    throw new CiloError('ENV_NOT_FOUND', `There is no environment named "${from}" to copy datasets from (--db-from).`, { hint: `${didYouMean(state, from)}Run \`cilo db list\` to see the environments' datasets.` });
  }
  if (other.project !== target.project) {
    throw new CiloError('USAGE', `Environment "${from}" belongs to project "${other.project}", not "${target.project}"; --db-from copies datasets within one project only.`, { hint: `Run \`cilo db list\` to see the datasets of project ${target.project}'s environments.`, exitCode: 2 });
  }
  if ((other.host ?? undefined) !== (target.host ?? undefined)) {
    throw new CiloError('USAGE', `Environment "${from}" runs on ${other.host ? `host ${other.host}` : 'this machine'} and "${target.name}" on ${target.host ? `host ${target.host}` : 'this machine'}; --db-from copies datasets within one engine only.`, { hint: `Create ${target.name} where ${from} runs (${other.host ? `--host ${other.host}` : 'without --host'}).`, exitCode: 2 });
  }
  if (!Object.values(other.datasets ?? {}).some((d) => d.status === 'ready')) {
    throw new CiloError('ENV_NOT_FOUND', `Environment "${from}" has no private datasets to copy: the project has no shared service with \`cilo.share.isolate\`, or ${from} was never started.`, { hint: `Run \`cilo db list ${from}\` to see its datasets; \`cilo up ${from}\` makes them.` });
  }
}

/** Where a new dataset's data comes from: another environment's dataset, the seed's template, or nothing. */
async function sourceFor(ctx: CoreContext, env: EnvironmentState, spec: IsolationSpec, engine: DatasetEngine, model: ComposeModel, dbFrom: string | undefined): Promise<{ source: DatasetSource; template: string | null }> {
  if (dbFrom) {
    const other = readState(ctx.paths).environments[dbFrom];
    const theirs = other?.project === env.project ? other.datasets?.[spec.service] : undefined;
    if (!theirs || theirs.status !== 'ready') {
      throw new CiloError('ENV_NOT_FOUND', `Environment "${dbFrom}" has no dataset of shared service "${spec.service}" in project "${env.project}" to copy.`, { hint: 'Run `cilo db list` to see the datasets there are.' });
    }
    return { source: { kind: 'dataset', name: theirs.name }, template: null };
  }
  const seeds = seedFiles(env.workspace, spec);
  if (seeds.length === 0) return { source: { kind: 'empty' }, template: null };
  const template = await templateFor(ctx, env.workspace, model.services[spec.service]?.image ?? '', seeds);
  await buildTemplate(ctx, engine, { project: env.project, service: spec.service }, template, seeds);
  return { source: { kind: 'template', name: template, seeds }, template };
}

/**
 * Builds a seed's template unless it exists: the long step of a first `up` with a large seed
 * (minutes), so it reports the bytes of the seeds loaded as they are read.
 */
async function buildTemplate(ctx: CoreContext, engine: DatasetEngine, { project, service }: { project: string; service: string }, template: string, seeds: SeedFile[]): Promise<void> {
  const total = seeds.reduce((n, s) => n + statSync(s.path).size, 0);
  const what = `${seeds.length} seed file${seeds.length === 1 ? '' : 's'}, ${formatBytes(total)}`;
  await step(
    ctx,
    { label: `Building template ${template} of ${service} (${what})`, done: (built) => (built ? `Template ${template} of ${service} built (${what})` : `Template ${template} of ${service} exists`) },
    (tick) => withNamedLock(ctx.paths, templateLockName(project, service), () => engine.ensureTemplate(template, seeds, (done) => tick({ done, total, unit: 'bytes' }))),
  );
}

/**
 * An `up` step, once the shared containers are ready: makes the environment's dataset in each
 * isolating shared service (an existing one is reused, never cloned again), records it, and
 * returns the values of the other services to rewrite so they name it. The services' datasets
 * are made side by side (each engine is its own container); every one is waited for before a
 * failure passes on, so the rollback never races a dataset still being made.
 */
export async function ensureDatasets(ctx: SiteContext, env: EnvironmentState, input: EnsureDatasetsInput): Promise<Rewrite[]> {
  const settled = await Promise.allSettled(input.specs.map((spec) => step(ctx, { label: `Preparing the dataset of ${spec.service}`, done: (r) => r.said }, () => ensureDataset(ctx, env, spec, input))));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  const made = new Map(settled.map((r, i) => [input.specs[i]?.service ?? '', (r as PromiseFulfilledResult<EnsuredDataset>).value]));
  const names = Object.fromEntries([...made].map(([service, d]) => [service, d.name]));
  const rewrites = datasetRewrites({ model: input.model, specs: input.specs, datasets: names, envName: env.name, suffix: env.dns_suffix });
  await withStateLock((s) => {
    const e = s.environments[env.name];
    for (const [service, d] of Object.entries(e?.datasets ?? {})) {
      const ensured = made.get(service);
      if (!ensured) continue;
      d.rewrites = rewrites.filter((r) => r.target === service).map(maskedRewrite).map(({ service: sv, variable, from, to }) => ({ service: sv, variable, from, to }));
      if (ensured.seenIn && d.name === ensured.name) d.seen_in = ensured.seenIn;
      else delete d.seen_in;
    }
  }, ctx.paths);
  return rewrites;
}

interface EnsuredDataset {
  name: string;
  /** What was done, said for a person. */
  said: string;
  /** The shared container it was found or made in (`seen_in` of DatasetState). */
  seenIn: string | undefined;
}

/** The running shared container of a service as `<id>@<start time>`: it changes when the container is made anew or restarted. */
async function containerRun(ctx: SiteContext, project: string, service: string): Promise<string | undefined> {
  const c = await ctx.site.docker.inspectContainer(sharedContainerName(project, service));
  return c?.State.Running ? `${c.Id}@${c.State.StartedAt ?? ''}` : undefined;
}

/**
 * Makes (or finds) the environment's dataset in one shared service. Each question to the engine
 * is a `docker exec` (about 0.1 s), so the usual cases ask as few as they can:
 * - resuming a paused environment: none, when state says it was ready in the same shared
 *   container (same id and start time) that runs now. A dataset dropped by hand meanwhile is
 *   found by the next `up` that is not a resume, and by `doctor`.
 * - an existing environment: one (`holds`);
 * - a new one from a built template: one (`quickCreate`: the template checked and cloned in one run).
 * Anything else takes the long way: wait for the server, build the template, create.
 */
async function ensureDataset(ctx: SiteContext, env: EnvironmentState, spec: IsolationSpec, input: EnsureDatasetsInput): Promise<EnsuredDataset> {
  const [current, engine, seenIn] = await Promise.all([
    Promise.resolve(readState(ctx.paths).environments[env.name]?.datasets?.[spec.service]),
    engineOf(ctx, env.project, spec, envOf(input.model, spec.service)),
    containerRun(ctx, env.project, spec.service),
  ]);
  const owner = { project: env.project, env: env.name };
  const kept = (): EnsuredDataset => {
    if (input.dbFrom) ctx.warn(`--db-from ${input.dbFrom} ignored for ${spec.service}: ${env.name} already has its dataset ${current?.name} (\`cilo db reset\` returns it to the seed).`);
    return { name: current?.name ?? '', said: `Dataset ${current?.name ?? ''} of ${spec.service} kept`, seenIn };
  };
  const ready = current?.status === 'ready' && current.engine === spec.engine && current.kind === spec.kind;
  if (ready && input.resumed === true && seenIn !== undefined && current.seen_in === seenIn) return kept();
  // The usual case (every up of an existing environment): the server answers for its dataset at
  // once, one exec instead of waiting for it to be ready first. A failure here is most often a
  // server not ready yet: waited for below, then asked again, unguarded.
  if (current?.status === 'ready' && (await engine.holds(current.name, owner).catch(() => false))) return kept();
  // Choosing the name (a free redis index) and recording the intent happen under one lock, so
  // two environments starting at once never get the same index.
  let answered = false;
  const claim = (template?: string): Promise<string> =>
    withNamedLock(ctx.paths, lockName(env.project, spec.service), async () => {
      const state = readState(ctx.paths);
      const recorded = state.environments[env.name]?.datasets?.[spec.service]?.name;
      const wanted = recorded ?? (spec.kind === 'database' ? datasetName(spec.engine, env.project, env.name) : '');
      let chosen = recorded;
      if (chosen === undefined && spec.kind === 'db-index') {
        chosen = await engine.allocate(wanted, heldNames(state, env.project, spec.service));
        answered = true; // a free index was read from the server: it answers
      }
      chosen ??= await engine.allocate(wanted, heldNames(state, env.project, spec.service));
      await recordDataset(ctx, env.name, spec.service, (d) => ({
        engine: spec.engine,
        kind: spec.kind,
        name: chosen,
        template: template ?? d?.template ?? null,
        status: 'creating',
        ...(spec.keep ? { keep: true } : {}),
        created_at: d?.created_at ?? isoNow(ctx),
      }));
      return chosen;
    });
  if (current?.status !== 'ready' && !input.dbFrom && engine.quickCreate) {
    const seeds = seedFiles(env.workspace, spec);
    if (seeds.length > 0) {
      const template = await templateFor(ctx, env.workspace, input.model.services[spec.service]?.image ?? '', seeds);
      const name = await claim(template);
      const quick = await engine.quickCreate(name, template, owner);
      if (quick) return finishDataset(ctx, env, spec, { name, template, made: quick === 'made', seenIn });
    }
  }
  const waitReady = async (): Promise<void> => {
    await engine.ready(input.timeoutMs ?? READY_TIMEOUT_MS);
    answered = true;
  };
  if (current?.status === 'ready') {
    await waitReady();
    if (await engine.holds(current.name, owner)) return kept();
    // The shared container was made anew without the volume that held it (e.g. after its grace period).
    ctx.warn(`Dataset ${current.name} of ${env.name} is gone from shared ${spec.service}; making it again.`);
  }
  // A new redis index: choosing it is the first question to the server, so no wait before it
  // unless it does not answer (then waited for, and asked again).
  let name: string;
  try {
    name = await claim();
  } catch (e) {
    if (answered || !(e instanceof CiloError)) throw e;
    await waitReady();
    name = await claim();
  }
  if (!answered) await waitReady();
  const { source, template } = await sourceFor(ctx, env, spec, engine, input.model, input.dbFrom);
  await recordDataset(ctx, env.name, spec.service, (d) => (d ? { ...d, template } : d));
  const made = await engine.create(name, source, owner);
  return finishDataset(ctx, env, spec, { name, template, made, seenIn });
}

/** Records a dataset made (or found complete) ready, and says so. */
async function finishDataset(ctx: SiteContext, env: EnvironmentState, spec: IsolationSpec, r: { name: string; template: string | null; made: boolean; seenIn: string | undefined }): Promise<EnsuredDataset> {
  const { name, template } = r;
  const said = r.made ? `Dataset ${name} of ${spec.service} ready${template ? ` (from ${template})` : ''}` : `Dataset ${name} of ${spec.service} reused`;
  // With progress events, the step's end says it (with its duration).
  if (!ctx.progress) ctx.log(said);
  // Test hook: die between making the dataset and recording it, as a killed `up` would.
  if (process.env.CILO_TEST_FAILPOINT === 'dataset-created') process.kill(process.pid, 'SIGKILL');
  await recordDataset(ctx, env.name, spec.service, (d) => (d ? { ...d, template, status: 'ready' } : d));
  return { name, said, seenIn: r.seenIn };
}

/** Dataset names of a project's service that environments hold (a redis index is never given twice). */
function heldNames(state: State, project: string, service: string): string[] {
  return Object.values(state.environments)
    .filter((e) => e.project === project)
    .flatMap((e) => (e.datasets?.[service] ? [e.datasets[service].name] : []));
}

/**
 * A `destroy` step: drops the environment's datasets (intent recorded first), except those
 * kept by `cilo.share.keep`. A shared container that is not running cannot drop anything: the
 * dataset is left, and `doctor` finds it once the service runs again.
 */
export async function dropDatasets(ctx: SiteContext, env: EnvironmentState): Promise<void> {
  const datasets = readState(ctx.paths).environments[env.name]?.datasets ?? {};
  for (const [service, d] of Object.entries(datasets)) {
    if (d.keep) continue;
    await recordDataset(ctx, env.name, service, (cur) => (cur ? { ...cur, status: 'dropping' } : cur));
    const engine = await liveEngine(ctx, env.project, service, d);
    if (!engine) {
      ctx.warn(`Dataset ${d.name} of shared service ${service} stays: its container is not running (\`cilo doctor --fix --force\` drops it once the service runs).`);
      continue;
    }
    await engine.drop(d.name);
    await recordDataset(ctx, env.name, service, () => undefined);
  }
}

function containerEnv(list: string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** The engine behind a recorded dataset, from its running container's own variables; undefined when it is not running. */
export async function liveEngine(ctx: SiteContext, project: string, service: string, d: Pick<DatasetState, 'engine'>): Promise<DatasetEngine | undefined> {
  const container = await ctx.site.docker.inspectContainer(sharedContainerName(project, service));
  if (!container?.State.Running) return undefined;
  return ctx.datasetEngines.open(ctx.site.exec, { container: container.Name.replace(/^\//, ''), engine: d.engine, env: containerEnv(container.Config.Env) });
}

export interface ResetInput {
  env: EnvironmentState;
  model: ComposeModel;
  specs: IsolationSpec[];
  service?: string | undefined;
}

/**
 * `cilo db reset`: the environment's dataset back to the seed. Ends only that dataset's
 * sessions (its application reconnects); neighbours are not touched.
 */
export async function resetDatasets(ctx: SiteContext, input: ResetInput): Promise<{ service: string; name: string; template: string | null }[]> {
  const { env } = input;
  const specs = input.specs.filter((s) => input.service === undefined || s.service === input.service);
  if (specs.length === 0) {
    throw new CiloError('SERVICE_NOT_FOUND', input.service ? `Service "${input.service}" of ${env.name} has no private dataset.` : `Environment ${env.name} has no private datasets.`, {
      hint: 'Label a shared service `cilo.share.isolate: database` (or db-index), then run `cilo up`.',
    });
  }
  const out: { service: string; name: string; template: string | null }[] = [];
  for (const spec of specs) {
    const d = readState(ctx.paths).environments[env.name]?.datasets?.[spec.service];
    if (!d) throw new CiloError('SERVICE_NOT_FOUND', `Environment ${env.name} has no dataset of ${spec.service} yet.`, { hint: `Run \`cilo up ${env.name}\` first.` });
    const engine = await liveEngine(ctx, env.project, spec.service, d);
    if (!engine) throw new CiloError('SERVICE_FAILED', `The shared service ${spec.service} of ${env.name} is not running.`, { hint: `Run \`cilo up ${env.name}\` first.` });
    await engine.ready(READY_TIMEOUT_MS);
    // The seed and template first: a missing seed file fails before the dataset is dropped.
    const { source, template } = await sourceFor(ctx, env, spec, engine, input.model, undefined);
    await recordDataset(ctx, env.name, spec.service, (cur) => (cur ? { ...cur, status: 'creating' } : cur));
    await engine.drop(d.name);
    await engine.create(d.name, source, { project: env.project, env: env.name });
    await recordDataset(ctx, env.name, spec.service, (cur) => (cur ? { ...cur, template, status: 'ready' } : cur));
    out.push({ service: spec.service, name: d.name, template });
  }
  return out;
}

export interface DatasetView {
  env: string;
  project: string;
  service: string;
  engine: string;
  kind: string;
  name: string;
  template: string | null;
  status: string;
  /** Bytes for databases, keys for redis indexes; null when the shared container is not running. */
  size: number | null;
  unit: 'bytes' | 'keys';
  keep: boolean;
  /** The remote host whose shared service holds it (absent: this machine's). */
  host?: string;
}

/** How long a host may take to report the sizes of its datasets (each shared service's inventory). */
const DATASET_SIZES_MS = 15_000;

/**
 * The sizes of a running shared engine's datasets by name; null when the engine cannot list
 * them (a query that fails, a container stopping meanwhile): said by `ctx.warn`, and their
 * sizes shown as unknown. A failure that is not cilo's expected kind is a bug, and passes on.
 */
export async function datasetSizes(ctx: Pick<CoreContext, 'warn'>, engine: Pick<DatasetEngine, 'inventory'>, project: string, service: string): Promise<Map<string, number> | null> {
  try {
    return new Map((await engine.inventory()).map((x) => [x.name, x.size]));
  } catch (err) {
    if (!(err instanceof CiloError)) throw err;
    ctx.warn(`The sizes of the datasets in shared ${service} of project ${project} are unknown: ${err.message}`);
    return null;
  }
}

/** The environments a dataset listing covers. */
function datasetEnvironments(ctx: CoreContext, filter: DatasetFilter): EnvironmentState[] {
  return Object.values(readState(ctx.paths).environments).filter((e) => (filter.env === undefined || e.name === filter.env) && (filter.project === undefined || e.project === filter.project));
}

export interface DatasetFilter {
  env?: string | undefined;
  project?: string | undefined;
}

/** One dataset's key among all: environment names are unique in state, a service has one dataset per environment. */
export function datasetKey(d: Pick<DatasetView, 'env' | 'service' | 'name'>): string {
  return `${d.env}\0${d.service}\0${d.name}`;
}

/** The recorded datasets of `envs`, by environment then service, sizes not known. */
function recordedViews(envs: EnvironmentState[]): DatasetView[] {
  const out: DatasetView[] = [];
  for (const e of [...envs].sort((a, b) => compareNames(a.name, b.name))) {
    for (const [service, d] of Object.entries(e.datasets ?? {}).sort(([a], [b]) => compareNames(a, b))) {
      out.push({ env: e.name, project: e.project, service, engine: d.engine, kind: d.kind, name: d.name, template: d.template, status: d.status, size: null, unit: d.kind === 'db-index' ? 'keys' : 'bytes', keep: d.keep === true, ...(e.host ? { host: e.host } : {}) });
    }
  }
  return out;
}

/**
 * The sizes of the datasets of `envs` that could be measured, by datasetKey. Per engine (an
 * environment on a host has its datasets in the shared service on that host), each shared
 * service's inventory once; a host that does not answer leaves its sizes unknown (said once).
 */
async function measureSizes(ctx: CoreContext, all: EnvironmentState[]): Promise<Map<string, number>> {
  // Only engines that hold some: a host with none of them is not asked (nor waited for).
  const envs = all.filter((e) => Object.keys(e.datasets ?? {}).length > 0);
  const sizes = await askEachSite(ctx, envs, async (site) => {
    const bySite = new Map<string, Map<string, number> | null>();
    for (const e of envs.filter((x) => sameSite(x, site))) {
      for (const [service, d] of Object.entries(e.datasets ?? {})) {
        const key = `${e.project}/${service}`;
        if (bySite.has(key)) continue;
        const engine = await liveEngine({ ...ctx, site }, e.project, service, d);
        bySite.set(key, engine ? await datasetSizes(ctx, engine, e.project, service) : null);
      }
    }
    return bySite;
  }, { askMs: DATASET_SIZES_MS });
  for (const a of sizes.values()) if (!a.ok) ctx.warn(`The sizes of the datasets on ${a.label} are unknown: ${a.problem}`);
  const out = new Map<string, number>();
  for (const v of recordedViews(envs)) {
    const answer = sizes.get(siteKey(v));
    const size = answer?.ok ? answer.value.get(`${v.project}/${v.service}`)?.get(v.name) : undefined;
    if (size !== undefined) out.set(datasetKey(v), size);
  }
  return out;
}

/** Recorded datasets as state has them, without asking any engine (sizes null). */
export function recordedDatasets(ctx: CoreContext, filter: DatasetFilter = {}): DatasetView[] {
  return recordedViews(datasetEnvironments(ctx, filter));
}

/** The live sizes of the recorded datasets, by datasetKey: what could be measured (a stopped shared service's are missing). */
export function measureDatasetSizes(ctx: CoreContext, filter: DatasetFilter = {}): Promise<Map<string, number>> {
  return measureSizes(ctx, datasetEnvironments(ctx, filter));
}

/** `cilo db list` and `cilo shared list`: recorded datasets with their live sizes. */
export async function listDatasets(ctx: CoreContext, filter: DatasetFilter = {}): Promise<DatasetView[]> {
  const envs = datasetEnvironments(ctx, filter);
  const sizes = await measureSizes(ctx, envs);
  return recordedViews(envs).map((v) => ({ ...v, size: sizes.get(datasetKey(v)) ?? null }));
}

export interface DatasetIssue {
  kind: 'dataset.orphaned' | 'dataset.missing' | 'dataset.unfinished' | 'dataset.unchecked';
  subject: string;
  message: string;
  /** Undefined (and no repair) where cilo has nothing to do: `dataset.unchecked`. */
  fix: string | undefined;
  destructive: boolean;
  repair?: (() => Promise<void>) | undefined;
}

/**
 * `doctor`: datasets carrying cilo's marker that no environment holds (fix: drop, which deletes
 * data), recorded datasets whose database is gone (fix: clone it again from its template, or
 * empty), and steps a killed command left half done (fix: finish them).
 */
export async function checkDatasets(ctx: SiteContext, state: State): Promise<DatasetIssue[]> {
  const issues: DatasetIssue[] = [];
  // Only what lives on this site's engine: another engine's shared service of the same name
  // holds other datasets.
  const here = (x: OnSite): boolean => sameSite(x, ctx.site);
  const environments = Object.values(state.environments).filter(here);
  const services = new Map<string, { project: string; service: string; engine: DatasetState['engine'] }>();
  for (const e of environments) for (const [service, d] of Object.entries(e.datasets ?? {})) services.set(`${e.project}/${service}`, { project: e.project, service, engine: d.engine });
  for (const s of Object.values(state.shared_services).filter(here)) {
    const key = `${s.project}/${s.service}`;
    if (services.has(key)) continue;
    const engine = engineFromImage((s.definition as { service?: { image?: string } } | undefined)?.service?.image);
    if (engine) services.set(key, { project: s.project, service: s.service, engine });
  }
  for (const { project, service, engine: kind } of services.values()) {
    const engine = await liveEngine(ctx, project, service, { engine: kind });
    if (!engine) continue;
    let present;
    try {
      present = await engine.inventory();
    } catch (err) {
      // Its datasets cannot be checked: said, and the other services are still checked.
      if (!(err instanceof CiloError)) throw err;
      issues.push({ kind: 'dataset.unchecked', subject: `${project}/${service}`, message: `The datasets in shared ${service} of project ${project} could not be listed, so they were not checked: ${err.message}`, fix: undefined, destructive: false });
      continue;
    }
    const holders = environments.filter((e) => e.project === project);
    for (const p of present) {
      if (!p.owner || p.owner.project !== project) continue;
      const holder = holders.find((e) => e.name === p.owner?.env);
      if (holder?.datasets?.[service]?.name === p.name) continue;
      const elsewhere = holder ? undefined : state.environments[p.owner.env];
      const why = holder ? 'holds another one' : elsewhere?.project === project ? `runs on ${elsewhere.host ? `host ${elsewhere.host}` : 'this machine'}, with its datasets there` : 'no longer exists';
      issues.push({
        kind: 'dataset.orphaned',
        subject: `${service}:${p.name}`,
        message: `Dataset ${p.name} in shared ${service} of project ${project} belongs to environment ${p.owner.env}, which ${why}.`,
        fix: `drop ${p.name}`,
        destructive: true,
        repair: () => engine.drop(p.name),
      });
    }
    for (const e of holders) {
      const d = e.datasets?.[service];
      if (!d) continue;
      // An engine that cannot mark its datasets (mysql: no schema comments) names no owner: there
      // the name is all there is to go by, and a dataset so named is taken as this one.
      const found = present.find((p) => p.name === d.name && (p.owner === undefined || (p.owner.env === e.name && !p.owner.loading)));
      const subject = `${e.name}/${service}:${d.name}`;
      if (d.status === 'dropping') {
        issues.push({ kind: 'dataset.unfinished', subject, message: `Dropping dataset ${d.name} of ${e.name} did not finish.`, fix: `drop ${d.name} and forget it`, destructive: false, repair: async () => { await engine.drop(d.name); await recordDataset(ctx, e.name, service, () => undefined); } });
      } else if (d.status === 'creating' || (!found && d.kind === 'database')) {
        const template = d.template;
        issues.push({
          kind: d.status === 'creating' ? 'dataset.unfinished' : 'dataset.missing',
          subject,
          message: d.status === 'creating' ? `Making dataset ${d.name} of ${e.name} did not finish (the command was interrupted).` : `Dataset ${d.name} of ${e.name} is recorded but gone from shared ${service}.`,
          fix: found ? `record ${d.name} as ready` : `make ${d.name} again${template ? ` from ${template}` : ' (empty)'}`,
          destructive: false,
          repair: async () => {
            if (!found) {
              const tplOk = template !== null && present.some((p) => p.name === template);
              await engine.create(d.name, tplOk && template ? { kind: 'template', name: template, seeds: [] } : { kind: 'empty' }, { project, env: e.name });
            }
            await recordDataset(ctx, e.name, service, (cur) => (cur ? { ...cur, status: 'ready', template: found || (template && present.some((p) => p.name === template)) ? cur.template : null } : cur));
          },
        });
      }
    }
  }
  return issues;
}

export interface ClonedDataset {
  service: string;
  name: string;
  from: string;
  /** How it was copied (see CopyMethod): postgres `template` only while the source had no session. */
  method: CopyMethod;
  /** How long the copy took. */
  ms: number;
}

/** A dataset to copy: the shared service holding it and what state records of it. */
export interface DatasetCopySource {
  project: string;
  service: string;
  dataset: Pick<DatasetState, 'engine' | 'kind' | 'name'>;
}

async function readyEngine(ctx: SiteContext, src: DatasetCopySource): Promise<DatasetEngine> {
  const engine = await liveEngine(ctx, src.project, src.service, src.dataset);
  if (!engine) throw new CiloError('SERVICE_FAILED', `The shared service ${src.service} holding dataset ${src.dataset.name} is not running, so it cannot be copied.`, { hint: 'Run `cilo up` on an environment that uses it first.' });
  await engine.ready(READY_TIMEOUT_MS);
  return engine;
}

/**
 * Copies one dataset within its shared engine into a new dataset marked as `owner`'s, leaving
 * the source's sessions alone (postgres: a file copy while the source has no session, else a
 * dump; mariadb: a dump; redis: the index's keys). `claim` runs under the service's lock with
 * the name chosen (a redis index no one holds), to record the intent before anything is made.
 */
export async function copyDataset(ctx: SiteContext, src: DatasetCopySource, owner: { env: string; wanted: string }, claim: (name: string) => Promise<void>): Promise<{ name: string; method: CopyMethod; ms: number }> {
  const engine = await readyEngine(ctx, src);
  const name = await withNamedLock(ctx.paths, lockName(src.project, src.service), async () => {
    const chosen = await engine.allocate(owner.wanted, heldNames(readState(ctx.paths), src.project, src.service));
    await claim(chosen);
    return chosen;
  });
  const t0 = performance.now();
  const method = await engine.copy(name, src.dataset.name, { project: src.project, env: owner.env });
  return { name, method, ms: Math.round(performance.now() - t0) };
}

/**
 * `snapshot restore`: replaces environment `env`'s dataset `name` by a copy of `src`'s, made
 * beside it first, so a copy that fails leaves the environment's dataset as it was.
 */
export async function replaceDataset(ctx: SiteContext, src: DatasetCopySource, target: { env: string; name: string }): Promise<CopyMethod> {
  const engine = await readyEngine(ctx, src);
  const marker = { project: src.project, env: target.env };
  const replace = (): Promise<CopyMethod> => engine.replace(target.name, src.dataset.name, marker, heldNames(readState(ctx.paths), src.project, src.service));
  // A redis index to copy into is one nobody holds: no other `up` may take it meanwhile.
  return src.dataset.kind === 'db-index' ? withNamedLock(ctx.paths, lockName(src.project, src.service), replace) : replace();
}

/** Drops a dataset that no environment records (a snapshot's); nothing when its engine is not running. */
export async function dropDatasetOf(ctx: SiteContext, src: DatasetCopySource): Promise<boolean> {
  const engine = await liveEngine(ctx, src.project, src.service, src.dataset);
  if (!engine) return false;
  await engine.drop(src.dataset.name);
  return true;
}

/**
 * Fork: gives `to` a copy of each ready dataset of `from`, each recorded `creating` first, so a
 * failed or killed fork's datasets are dropped with it.
 */
export async function cloneDatasets(ctx: SiteContext, from: Pick<EnvironmentState, 'project' | 'datasets'>, to: Pick<EnvironmentState, 'project' | 'name'>): Promise<ClonedDataset[]> {
  const out: ClonedDataset[] = [];
  for (const [service, d] of Object.entries(from.datasets ?? {}).sort(([a], [b]) => compareNames(a, b))) {
    if (d.status !== 'ready') continue;
    const wanted = d.kind === 'database' ? datasetName(d.engine, to.project, to.name) : '';
    const { name, method, ms } = await copyDataset(ctx, { project: from.project, service, dataset: d }, { env: to.name, wanted }, (chosen) =>
      recordDataset(ctx, to.name, service, () => ({ engine: d.engine, kind: d.kind, name: chosen, template: null, status: 'creating', ...(d.keep ? { keep: true } : {}), created_at: isoNow(ctx) })),
    );
    await recordDataset(ctx, to.name, service, (cur) => (cur ? { ...cur, status: 'ready' } : cur));
    out.push({ service, name, from: d.name, method, ms });
  }
  return out;
}
