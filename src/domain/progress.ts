/**
 * Progress of a long use-case (`up`) as structured events: core reports them through
 * `CoreContext.progress`, and whoever listens (the CLI's stderr view) decides how to show them.
 * Plain types and pure rules, no I/O.
 */

/**
 * Where a service is on its way up: compose's own words while it creates and starts containers
 * (`creating`, `created`, `starting`, `started`; `health`: waiting for its healthcheck, `healthy`), then
 * cilo's wait (`restarting`, `waiting` for another reason given in `detail`), and the end:
 * `ready` or `failed`.
 */
export type ServicePhase = 'creating' | 'created' | 'starting' | 'started' | 'health' | 'healthy' | 'restarting' | 'waiting' | 'ready' | 'failed';

/** How much of a long step is done: bytes of seed files loaded, files copied. */
export interface StepAmount {
  done: number;
  total?: number | undefined;
  unit: 'bytes' | 'files';
}

export type ProgressEvent =
  /** A step begins; `id` is unique in the process (steps may overlap: the network is made while the model is resolved). */
  | { type: 'step-start'; id: number; label: string }
  /** How far a long step is (sent often: a listener draws at its own pace). */
  | { type: 'step-tick'; id: number; amount: StepAmount }
  /** A step ended: `label` says what was done (or what failed), `ms` how long it took. */
  | { type: 'step-end'; id: number; label: string; ms: number; ok: boolean }
  /** A service moved on; `shared`: the project's shared container of that service. */
  | { type: 'service'; service: string; phase: ServicePhase; detail?: string | undefined; shared?: boolean | undefined };

/**
 * The phase a line of `docker compose up` output names for a container (its status word, as in
 * ` Container p-web-1  Started`); undefined for words that say nothing about starting it.
 * `Waiting` and `Healthy` are printed for a dependency whose health compose waits for.
 */
export function composePhase(word: string): ServicePhase | undefined {
  switch (word) {
    case 'Creating':
    case 'Recreate':
      return 'creating';
    case 'Created':
    case 'Recreated':
      return 'created';
    case 'Starting':
      return 'starting';
    case 'Started':
    case 'Running':
      return 'started';
    case 'Waiting':
      return 'health';
    case 'Healthy':
      return 'healthy';
    case 'Error':
      return 'failed';
    default:
      return undefined;
  }
}

/**
 * The service of a container compose named in project `project` (`<project>-<service>-<n>`:
 * cilo's generated models set no container_name); undefined for another project's.
 */
export function serviceOfContainer(project: string, container: string): string | undefined {
  if (!container.startsWith(`${project}-`)) return undefined;
  const service = container.slice(project.length + 1).replace(/-\d+$/, '');
  return service === '' ? undefined : service;
}

/** What a person reads for a phase ("waiting for health"). */
export function phaseText(phase: ServicePhase): string {
  switch (phase) {
    case 'health':
      return 'waiting for health';
    default:
      return phase;
  }
}

/** A duration for people: "0.4 s", "12 s", "2 min 28 s". */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A size for people: "812 B", "1.4 MB", "2.1 GB" (powers of 1000, as `du --si`). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return i === 0 ? `${v} ${units[0]}` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** How far a step is, for people: "1.4 MB of 20 MB (7%)", "4,210 of 10,000 files (42%)". */
export function formatAmount(a: StepAmount): string {
  const n = (x: number): string => (a.unit === 'bytes' ? formatBytes(x) : x.toLocaleString('en-US'));
  const suffix = a.unit === 'files' ? ' files' : '';
  if (a.total === undefined || a.total <= 0) return `${n(a.done)}${suffix}`;
  return `${n(a.done)} of ${n(a.total)}${suffix} (${Math.min(100, Math.floor((a.done / a.total) * 100))}%)`;
}
