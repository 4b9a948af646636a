/**
 * Pure rules of private datasets in shared engines (issue #15): which shared services isolate
 * their data and how (engine kind from the image or `cilo.share.engine`), the names of datasets
 * and templates within the engines' limits, which environment values of the other services are
 * rewritten to point at the environment's own dataset, and masking passwords for display.
 */
import { createHash } from 'node:crypto';
import { CiloError } from '../errors.js';
import type { ComposeModel, ComposeService } from './compose-model.js';
import { maskSecret } from './mask.js';
import { sharedServices } from './shared.js';
import { ENGINE_KINDS, ISOLATION_KINDS, type EngineKind, type IsolationKind } from './dataset-kinds.js';

/** The per-service keys of `.cilo/config.yml` `services:` (the same as the labels). */
export interface ServiceShareConfig {
  share?: boolean | undefined;
  isolate?: IsolationKind | undefined;
  engine?: EngineKind | undefined;
  seed?: string | string[] | undefined;
  env?: string[] | undefined;
  keep?: boolean | undefined;
  connection_limit?: number | undefined;
}

/** How one shared service gives each environment its own data. */
export interface IsolationSpec {
  service: string;
  engine: EngineKind;
  kind: IsolationKind;
  /** Seed files or directories, relative to the project directory; empty: datasets start empty. */
  seed: string[];
  /** Variables named by `cilo.share.env`: rewritten in every other service that has them. */
  env: string[];
  /** `cilo.share.keep`: destroy leaves the dataset in place. */
  keep: boolean;
  /** Postgres: CONNECTION LIMIT of each environment's database. */
  connectionLimit?: number | undefined;
  /** The database the project's files name (POSTGRES_DB, MYSQL_DATABASE...), or the redis index "0". */
  baseName: string;
}

export const LABEL = {
  isolate: 'cilo.share.isolate',
  engine: 'cilo.share.engine',
  seed: 'cilo.share.seed',
  env: 'cilo.share.env',
  keep: 'cilo.share.keep',
  connectionLimit: 'cilo.share.connection-limit',
} as const;

/** Engine kind from the image's repository name (`postgres:16-alpine`, `bitnami/mariadb`, `valkey/valkey`). */
export function engineFromImage(image: string | undefined): EngineKind | undefined {
  if (!image) return undefined;
  const repo = image.split('@')[0]!.replace(/:[^/]*$/, '').toLowerCase();
  const last = repo.split('/').pop() ?? '';
  for (const kind of ['postgres', 'mariadb', 'mysql', 'redis', 'valkey'] as const) if (last.includes(kind)) return kind;
  if (last.startsWith('pg') || last.includes('postgis') || last.includes('timescale')) return 'postgres';
  return undefined;
}

export function isolationFitsEngine(engine: EngineKind, kind: IsolationKind): boolean {
  return kind === (engine === 'redis' || engine === 'valkey' ? 'db-index' : 'database');
}

function env(svc: ComposeService): Record<string, string> {
  const raw = (svc.environment ?? {}) as Record<string, string | null>;
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** The database the engine's own image creates from its variables (what the project's URLs name). */
export function baseDatabase(engine: EngineKind, svc: ComposeService): string {
  const e = env(svc);
  switch (engine) {
    case 'postgres':
      return e.POSTGRES_DB ?? e.POSTGRES_USER ?? 'postgres';
    case 'mariadb':
    case 'mysql':
      return e.MARIADB_DATABASE ?? e.MYSQL_DATABASE ?? '';
    default:
      return '0';
  }
}

function list(raw: string | string[] | undefined): string[] {
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : raw.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function bool(raw: string | boolean | undefined, where: string): boolean | undefined {
  if (raw === undefined || typeof raw === 'boolean') return raw;
  if (/^(true|yes|1)$/i.test(raw)) return true;
  if (/^(false|no|0)$/i.test(raw)) return false;
  throw new CiloError('CONFIG_INVALID', `${where} must be "true" or "false", got "${raw}".`, { hint: 'Fix the value and retry.' });
}

function oneOf<T extends string>(raw: string | undefined, allowed: readonly T[], where: string): T | undefined {
  if (raw === undefined) return undefined;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new CiloError('CONFIG_INVALID', `${where} must be one of ${allowed.join(', ')}, got "${raw}".`, { hint: 'Fix the value and retry.' });
}

/**
 * The isolation of each shared service that asks for it, from its labels, else the project
 * config's `services.<name>` keys. A service that asks for isolation without being shared is
 * left alone: it has its own data anyway.
 */
export function isolationSpecs(model: ComposeModel, shared: string[], config: Record<string, ServiceShareConfig> = {}): IsolationSpec[] {
  const out: IsolationSpec[] = [];
  for (const service of shared) {
    const svc = model.services[service];
    if (!svc) continue;
    const labels = svc.labels ?? {};
    const cfg = config[service] ?? {};
    const where = (label: string, key: string): string =>
      labels[label] !== undefined ? `The label ${label} of service "${service}"` : `services.${service}.${key} in .cilo/config.yml`;
    const kind = oneOf(labels[LABEL.isolate] ?? cfg.isolate, ISOLATION_KINDS, where(LABEL.isolate, 'isolate'));
    if (!kind) continue;
    const engine = oneOf(labels[LABEL.engine] ?? cfg.engine, ENGINE_KINDS, where(LABEL.engine, 'engine')) ?? engineFromImage(svc.image);
    if (!engine) {
      throw new CiloError('CONFIG_INVALID', `Shared service "${service}" asks for private datasets (${kind}), but its image "${svc.image ?? '(built)'}" does not say which engine it runs.`, {
        hint: `Add the label ${LABEL.engine} with one of ${ENGINE_KINDS.join(', ')}.`,
      });
    }
    if (!isolationFitsEngine(engine, kind)) {
      const fits = ISOLATION_KINDS.find((k) => isolationFitsEngine(engine, k));
      throw new CiloError('CONFIG_INVALID', `Shared service "${service}" runs ${engine}, which isolates by "${fits}", not "${kind}".`, { hint: `Set ${LABEL.isolate} to "${fits}".` });
    }
    const limitRaw = labels[LABEL.connectionLimit] ?? cfg.connection_limit;
    let connectionLimit: number | undefined;
    if (limitRaw !== undefined) {
      connectionLimit = Number(limitRaw);
      if (!Number.isInteger(connectionLimit) || connectionLimit < 1) {
        throw new CiloError('CONFIG_INVALID', `${where(LABEL.connectionLimit, 'connection_limit')} must be a whole number of at least 1, got "${limitRaw}".`, { hint: 'Fix the value and retry.' });
      }
    }
    const baseName = baseDatabase(engine, svc);
    if (kind === 'database' && baseName === '') {
      throw new CiloError('CONFIG_INVALID', `Shared service "${service}" (${engine}) names no database (MARIADB_DATABASE or MYSQL_DATABASE), so cilo cannot tell which values to point at each environment's own.`, {
        hint: 'Set MARIADB_DATABASE (or MYSQL_DATABASE) in its environment.',
      });
    }
    out.push({
      service,
      engine,
      kind,
      seed: list(labels[LABEL.seed] ?? cfg.seed),
      env: list(labels[LABEL.env] ?? cfg.env),
      keep: bool(labels[LABEL.keep] ?? cfg.keep, where(LABEL.keep, 'keep')) ?? false,
      connectionLimit,
      baseName,
    });
  }
  return out;
}

/** Services `.cilo/config.yml` marks `share: true` (they are shared like labelled ones). */
export function configSharedServices(config: Record<string, ServiceShareConfig> = {}): string[] {
  return Object.entries(config)
    .filter(([, c]) => c.share === true)
    .map(([s]) => s);
}

/**
 * The services an environment shares: its --shared/--isolate choice, the config's `share: true`
 * services the model has, and the labelled ones (see sharedServices). `up` and `db` both ask.
 */
export function chosenSharedServices(model: ComposeModel, flags: { shared: string[]; isolate: string[] }, config: Record<string, ServiceShareConfig> = {}): string[] {
  const fromConfig = configSharedServices(config).filter((s) => s in model.services);
  return sharedServices(model, [...flags.shared, ...fromConfig], flags.isolate);
}

const PG_MAX = 63;
const MYSQL_MAX = 64;

function shortHash(s: string, n = 8): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** Lowercase letters, digits and `_` only (no quoting needed anywhere), within `max` bytes. */
export function sanitizeIdentifier(raw: string, max: number): string {
  let s = raw.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (s === '' || /^[0-9]/.test(s)) s = `d_${s}`;
  if (s.length <= max) return s;
  // Cut, and keep names that differ only at the end apart with a hash of the whole.
  const h = shortHash(raw);
  return `${s.slice(0, max - h.length - 1).replace(/_+$/, '')}_${h}`;
}

function maxName(engine: EngineKind): number {
  return engine === 'postgres' ? PG_MAX : MYSQL_MAX;
}

/** The environment's database: `<project>_<env>`, sanitised, within the engine's limit. */
export function datasetName(engine: EngineKind, project: string, envName: string): string {
  return sanitizeIdentifier(`${project}_${envName}`, maxName(engine));
}

export const TEMPLATE_PREFIX = 'cilo_tpl_';

/** A template's name: a hash of the seed's content and the engine image names it. */
export function templateName(seedHash: string): string {
  return `${TEMPLATE_PREFIX}${seedHash.slice(0, 16)}`;
}

/** The hash of a seed: the engine's image, then each file's relative name and content, in order. */
export function seedHash(image: string, files: { name: string; content: Buffer | string }[]): string {
  const h = createHash('sha256').update(`image\0${image}\0`);
  for (const f of files) h.update(`file\0${f.name}\0`).update(f.content).update('\0');
  return h.digest('hex');
}

/** The comment cilo puts on each database it makes: how doctor tells its datasets from the user's. */
export function datasetMarker(project: string, envName: string): string {
  return `cilo:${project}/${envName}`;
}

/** The owner a marker names; `loading` while a copy into it has not finished. */
export function parseMarker(comment: string | null | undefined): { project: string; env: string; loading: boolean } | undefined {
  const m = /^cilo:([a-z0-9-]+)\/([a-z0-9-]+)(:loading)?$/.exec(comment ?? '');
  return m ? { project: m[1]!, env: m[2]!, loading: m[3] !== undefined } : undefined;
}

/** The lowest redis index from 1 up that no environment holds and holds no keys; undefined when all are taken. */
export function lowestFreeIndex(databases: number, held: Iterable<number>, nonEmpty: Iterable<number>): number | undefined {
  const taken = new Set([...held, ...nonEmpty, 0]);
  for (let i = 1; i < databases; i++) if (!taken.has(i)) return i;
  return undefined;
}

// Rewrites

const URL_SCHEMES: Record<'sql' | 'redis', RegExp> = {
  sql: /^(postgres|postgresql|mysql|mariadb|mysql2|mysqlx)(\+[a-z0-9]+)?$/i,
  redis: /^(redis|rediss|valkey|valkeys)$/i,
};

/** Variables that commonly hold the name of the database an application connects to. */
export const DATABASE_NAME_VARS = ['POSTGRES_DB', 'PGDATABASE', 'MYSQL_DATABASE', 'MARIADB_DATABASE', 'DB_DATABASE', 'DB_NAME', 'DATABASE_NAME', 'DATABASE_DB'];

export interface Rewrite {
  service: string;
  variable: string;
  from: string;
  to: string;
  /** The shared service whose dataset the value now names. */
  target: string;
}

interface ParsedUrl {
  prefix: string;
  scheme: string;
  host: string;
  path: string;
  rest: string;
}

/** `scheme://[userinfo@]host[:port][/path][?query|#frag]`, with an optional `jdbc:` in front; hand-parsed so nothing is normalised. */
function parseConnUrl(value: string): ParsedUrl | undefined {
  const m = /^((?:jdbc:)?([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#,]*)(?::\d+)?)(\/[^?#]*)?([?#].*)?$/i.exec(value);
  if (!m) return undefined;
  return { prefix: m[1]!, scheme: m[2]!, host: m[3]!.toLowerCase(), path: m[4] ?? '', rest: m[5] ?? '' };
}

function pointsAt(url: ParsedUrl, service: string, envName: string, suffix: string): boolean {
  return url.host === service.toLowerCase() || url.host === `${service}.${envName}${suffix}`.toLowerCase();
}

/** The value with its URL path naming `dataset`, or undefined when it is not a URL to `spec`'s service. */
function rewriteUrl(value: string, spec: IsolationSpec, dataset: string, envName: string, suffix: string): string | undefined {
  const url = parseConnUrl(value);
  if (!url || !pointsAt(url, spec.service, envName, suffix)) return undefined;
  const redis = spec.kind === 'db-index';
  if (!URL_SCHEMES[redis ? 'redis' : 'sql'].test(url.scheme)) return undefined;
  const current = decodeURIComponent(url.path.replace(/^\//, ''));
  // A URL naming another database of the same server is the application's business.
  if (!redis && current !== '' && current !== spec.baseName) return undefined;
  return `${url.prefix}/${dataset}${url.rest}`;
}

export interface RewriteInput {
  model: ComposeModel;
  specs: IsolationSpec[];
  /** The environment's dataset of each isolated shared service (database name or redis index). */
  datasets: Record<string, string>;
  envName: string;
  suffix: string;
}

/**
 * The environment values of the other services that must name the environment's own dataset:
 * connection URLs pointing at the shared service (their path), variables holding its base
 * database name, and the variables `cilo.share.env` names.
 */
export function datasetRewrites(input: RewriteInput): Rewrite[] {
  const out: Rewrite[] = [];
  for (const [service, svc] of Object.entries(input.model.services).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (input.specs.some((s) => s.service === service)) continue;
    for (const [variable, value] of Object.entries(env(svc)).sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const spec of input.specs) {
        const dataset = input.datasets[spec.service];
        if (dataset === undefined) continue;
        let to = rewriteUrl(value, spec, dataset, input.envName, input.suffix);
        if (to === undefined && spec.kind === 'database' && DATABASE_NAME_VARS.includes(variable) && value === spec.baseName) to = dataset;
        if (to === undefined && spec.env.includes(variable)) to = parseConnUrl(value) ? undefined : dataset;
        if (to !== undefined && to !== value) {
          out.push({ service, variable, from: value, to, target: spec.service });
          break;
        }
      }
    }
  }
  return out;
}

/** The generated model with the rewrites applied (the project's own files are never touched). */
export function applyRewrites(model: ComposeModel, rewrites: Rewrite[]): ComposeModel {
  if (rewrites.length === 0) return model;
  const services = { ...model.services };
  for (const r of rewrites) {
    const svc = services[r.service];
    if (!svc) continue;
    services[r.service] = { ...svc, environment: { ...((svc.environment as Record<string, string | null> | undefined) ?? {}), [r.variable]: r.to } };
  }
  return { ...model, services };
}

/**
 * Where the official postgres, mariadb and mysql images (and bitnami's) run `*.sql` files on
 * their first start (an empty data directory), as the superuser, into the database their
 * variables name: what a template is loaded as, for a shared service's seed.
 */
export const INITDB_DIR = '/docker-entrypoint-initdb.d';

/** A read-only bind of one seed file into a service's container. */
export interface SeedMount {
  type: 'bind';
  source: string;
  target: string;
  read_only: true;
}

/**
 * The seed of a shared service that an environment runs as its own container (`--isolate`):
 * its files, in the order a template loads them, mounted where the engine's image runs them on
 * its first start. Redis and valkey images have no such directory: undefined (`up` says so).
 */
export function isolatedSeedMounts(spec: IsolationSpec, files: readonly string[]): SeedMount[] | undefined {
  if (spec.kind !== 'database') return undefined;
  const width = Math.max(2, String(files.length).length);
  return files.map((source, i) => {
    const name = (source.split('/').pop() ?? 'seed').replace(/[^A-Za-z0-9._-]+/g, '_');
    // The images run only known extensions; cilo loads every seed file as SQL, and so do they.
    const sql = /\.sql$/i.test(name) ? name : `${name}.sql`;
    return { type: 'bind', source, target: `${INITDB_DIR}/cilo-seed-${String(i + 1).padStart(width, '0')}-${sql}`, read_only: true };
  });
}

/** The model with each service's seed mounts added to its volumes. */
export function applySeedMounts(model: ComposeModel, mounts: Record<string, SeedMount[]>): ComposeModel {
  const entries = Object.entries(mounts).filter(([service, m]) => m.length > 0 && model.services[service]);
  if (entries.length === 0) return model;
  const services = { ...model.services };
  for (const [service, m] of entries) {
    const svc = services[service]!;
    const volumes = ((svc.volumes as unknown[] | undefined) ?? []).filter((v) => !m.some((x) => (v as { target?: string }).target === x.target));
    services[service] = { ...svc, volumes: [...volumes, ...m] };
  }
  return { ...model, services };
}

/** A rewrite as shown and stored: passwords masked. */
export function maskedRewrite(r: Rewrite): Rewrite {
  return { ...r, from: maskSecret(r.from), to: maskSecret(r.to) };
}

/** Quotes a postgres identifier (names are sanitised already; this keeps any other name safe too). */
export function pgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function pgLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
