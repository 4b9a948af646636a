/**
 * The manifest of an environment (`cilo.manifest/1`, shaped in domain/manifest.ts): gathers
 * the facts — recorded state, live containers, what each service was given, the DNS server —
 * and writes it to a private file for `cilo run` (CILO_MANIFEST).
 */
import { siteOf } from '../sites/reach.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { buildManifest, environmentOf, type DatasetManifest, type Manifest, type UpTimings } from '../../domain/manifest.js';
import { sharedKey, type EnvironmentState, type SharedServiceState, type State } from '../../domain/state.js';
import { urlPlan } from '../../domain/host-reach.js';
import { generatedComposePath } from '../../state/paths.js';
import { parseStoredSharedDefinition } from '../../state/shared-definition.js';
import { readState } from '../../state/store.js';
import { writeFileAtomic } from '../../files/atomic.js';
import type { CoreContext } from '../context.js';
import { liveState } from '../environments/environment-view.js';
import { findEnv } from '../environments/lookup.js';

export interface ManifestOptions {
  showSecrets?: boolean | undefined;
  /** Each service's datasets in a shared engine (`cilo.share.isolate`); by default, those state records. */
  datasets?: Record<string, DatasetManifest[]> | undefined;
  /** The phases of the `up` that just ran; absent for `status`. */
  timings?: UpTimings | undefined;
}

/**
 * The environment's private datasets as state records them, by shared service: engine, kind,
 * name, template, status and the values rewritten to name them (passwords already masked).
 */
function recordedDatasets(env: EnvironmentState): Record<string, DatasetManifest[]> {
  return Object.fromEntries(
    Object.entries(env.datasets ?? {}).map(([service, d]) => [service, [{ engine: d.engine, kind: d.kind, name: d.name, template: d.template, status: d.status, rewrites: d.rewrites ?? [] }]]),
  );
}

/** Each isolated service's `environment` from the generated model cilo wrote for compose. */
function generatedEnvironments(ctx: CoreContext, env: EnvironmentState): Record<string, Record<string, string>> {
  const file = generatedComposePath(ctx.paths, env.project, env.name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}; // never started: nothing was given yet
    throw e;
  }
  let model: unknown;
  try {
    model = parse(text);
  } catch (e) {
    ctx.warn(`The generated model ${file} is not YAML (${e instanceof Error ? e.message : String(e)}), so the manifest shows no variables; \`cilo up ${env.name}\` writes it again.`);
    return {};
  }
  const services = isRecord(model) && isRecord(model.services) ? model.services : {};
  return Object.fromEntries(Object.entries(services).map(([name, svc]) => [name, environmentOf(isRecord(svc) ? svc.environment : undefined)]));
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * A shared service's `environment` from the definition recorded in state when it was made,
 * checked: none when nothing was recorded; a recorded value that is not a definition, or whose
 * `environment` is neither a map nor a list, is named in `problem` (and gives none).
 */
export function sharedEnvironment(rec: Pick<SharedServiceState, 'definition'> | undefined): { environment: Record<string, string>; problem?: string } {
  const r = parseStoredSharedDefinition(rec);
  if (r === undefined) return { environment: {} };
  if (!r.ok) return { environment: {}, problem: r.problem };
  const raw = r.definition.service.environment;
  if (raw !== undefined && raw !== null && typeof raw !== 'object') return { environment: {}, problem: `service.environment: a ${typeof raw}, not a map or a list` };
  return { environment: environmentOf(raw) };
}

/** Each shared service's `environment` from the definition recorded when it was made; a bad record is said, and gives none. */
function sharedEnvironments(ctx: CoreContext, state: State, env: EnvironmentState): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, s] of Object.entries(env.services)) {
    if (s.type !== 'shared') continue;
    const { environment, problem } = sharedEnvironment(state.shared_services[sharedKey(env.project, name, env.host)]);
    if (problem) ctx.warn(`The definition of shared service ${name} recorded in ${ctx.paths.state} is not one cilo can read (${problem}), so the manifest of ${env.name} leaves out its variables; \`cilo up ${env.name} --recreate\` records it again.`);
    out[name] = environment;
  }
  return out;
}

/** A name this environment's DNS answers, to ask the system resolver about. */
function probeName(env: EnvironmentState): string | undefined {
  const first = Object.keys(env.services).sort()[0];
  return first === undefined ? undefined : `${first}.${env.name}${env.dns_suffix}`;
}

export async function manifestOfEnvironment(ctx: CoreContext, env: EnvironmentState, opts: ManifestOptions = {}): Promise<Manifest> {
  const state = readState(ctx.paths);
  const probe = probeName(env);
  const [live, dns, systemResolver] = await Promise.all([
    siteOf(ctx, env).then((s) => liveState(s.docker, [env], ctx.clock)),
    ctx.dns.status().catch(() => ({ running: false, answering: false, port: state.dns_port })),
    probe ? ctx.dns.systemResolves(probe, 500).catch(() => false) : Promise.resolve(false),
  ]);
  return buildManifest({
    env,
    containers: live.containers,
    facts: live.facts,
    now: live.now,
    environments: { ...generatedEnvironments(ctx, env), ...sharedEnvironments(ctx, state, env) },
    dnsPort: state.dns_port,
    dnsRunning: dns.running,
    systemResolver,
    timings: opts.timings,
    showSecrets: opts.showSecrets,
    datasets: opts.datasets ?? recordedDatasets(env),
    plan: urlPlan(state, env),
    caFile: existsSync(ctx.ca.certFile()) ? ctx.ca.certFile() : undefined,
  });
}

/** `status --json`: the manifest with live states, found by name. */
export async function environmentManifest(ctx: CoreContext, input: { env: string; project?: string | undefined } & ManifestOptions): Promise<Manifest> {
  const env = findEnv(readState(ctx.paths), input.env, input.project);
  return manifestOfEnvironment(ctx, env, input);
}

/** Writes the manifest where only this user can read it; returns the file's path. */
export function writeManifestFile(ctx: CoreContext, manifest: Manifest): string {
  const file = join(dirname(generatedComposePath(ctx.paths, manifest.project, manifest.env)), 'manifest.json');
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
  return file;
}
