/**
 * What core and the dataset engines adapter (datasets/engines.ts) both name: a private
 * dataset's engine as an interface, where a new dataset's data comes from, and how it was
 * copied. Plain types, no I/O.
 */
import type { EngineKind } from './dataset-kinds.js';

/** A seed file as the engine's client reads it. */
export interface SeedFile {
  path: string;
}

/**
 * Where a new dataset's data comes from: a seed's template, another dataset (`up --db-from`,
 * fork, snapshots: copied as `DatasetEngine.copy` does, never ending the source's sessions), or
 * nothing.
 */
export type DatasetSource = { kind: 'template'; name: string; seeds: SeedFile[] } | { kind: 'dataset'; name: string } | { kind: 'empty' };

/**
 * How a dataset was copied. postgres: `template` (CREATE DATABASE ... TEMPLATE, a file copy,
 * only while the source has no session) or `dump` (pg_dump | psql, a consistent snapshot while
 * its sessions go on); mariadb/mysql: `dump` (--single-transaction); redis: `keys` (COPY of
 * each key).
 */
export type CopyMethod = 'template' | 'dump' | 'keys';

export interface EngineDataset {
  name: string;
  /** Project and environment from cilo's marker; undefined for the user's own databases. */
  owner?: { project: string; env: string; loading: boolean } | undefined;
  template: boolean;
  /** Bytes (databases) or keys (redis indexes). */
  size: number;
}

export interface DatasetEngine {
  readonly unit: 'bytes' | 'keys';
  ready(timeoutMs: number): Promise<void>;
  inventory(): Promise<EngineDataset[]>;
  /**
   * Builds the template from the seeds unless it exists complete; returns whether it built it.
   * `onLoaded` is told the bytes of the seeds read so far (one count across the files).
   */
  ensureTemplate(name: string, seeds: SeedFile[], onLoaded?: (bytes: number) => void): Promise<boolean>;
  /** The redis index to give a new environment (databases: the name itself). */
  allocate(wanted: string, held: string[]): Promise<string>;
  /** Whether the engine still has this environment's dataset (a shared container made anew without its volume has not). */
  holds(name: string, marker: { project: string; env: string }): Promise<boolean>;
  /**
   * A new environment's dataset in one round trip, where the engine can: when `template` exists
   * complete and `name` does not, clones it into `name` marked as `marker`'s ('made'); 'held'
   * when `name` is already `marker`'s. undefined for anything else (the server not answering
   * yet, no template, a session on it, an engine without templates): the caller takes the
   * long way (ready, ensureTemplate, create), which says what is wrong.
   */
  quickCreate?(name: string, template: string, marker: { project: string; env: string }): Promise<'made' | 'held' | undefined>;
  /** Makes the dataset from the source unless it exists complete; returns whether it made it. */
  create(name: string, source: DatasetSource, marker: { project: string; env: string }): Promise<boolean>;
  /**
   * Makes `name` a copy of dataset `from`, marked as `marker`'s (whatever an interrupted copy
   * left under that name is replaced). The sessions on `from` go on undisturbed: its
   * applications keep running.
   */
  copy(name: string, from: string, marker: { project: string; env: string }): Promise<CopyMethod>;
  /**
   * Replaces dataset `name` by a copy of `from`: the copy is made beside it first, and only once
   * it is complete does it take `name`'s place (its sessions are ended then), so a copy that
   * fails leaves `name` as it was. `held`: the names environments hold (a redis index to copy
   * into must be one nobody holds; the caller holds the service's lock).
   */
  replace(name: string, from: string, marker: { project: string; env: string }, held: string[]): Promise<CopyMethod>;
  drop(name: string): Promise<void>;
  /** Drops a template (`cilo shared rm`); the next dataset of its seed builds it again. */
  dropTemplate(name: string): Promise<void>;
}

export interface EngineTarget {
  container: string;
  engine: EngineKind;
  /** The shared service's resolved environment. */
  env: Record<string, string>;
  connectionLimit?: number | undefined;
}
