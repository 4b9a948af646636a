/**
 * The engines behind private datasets, driven through their own clients inside the shared
 * container (through the exec its caller passes): psql for postgres, mariadb/mysql for
 * mariadb and mysql, redis-cli for redis and valkey. Administrative connections go over TCP to
 * 127.0.0.1 with the credentials of the service's own variables, so an engine still
 * initialising (official images run a socket-only server first) is not mistaken for a ready one.
 * Core reaches this module only through its `datasetEngines` port (core/ports.ts).
 */
import { datasetMarker, lowestFreeIndex, parseMarker, pgIdent, pgLiteral, sqlIdent } from '../domain/datasets.js';
import type { CopyMethod, DatasetEngine, DatasetSource, EngineDataset, EngineTarget, SeedFile } from '../domain/dataset-engine.js';
import { CiloError } from '../errors.js';

/**
 * Programs run inside a running container, as an argument array: the part of core's
 * `ContainerExec` port (and of docker/exec.ts) the engines use, named here so this adapter
 * imports neither.
 */
export interface EngineExec {
  run(container: string, argv: string[], opts?: { stdin?: string | undefined; stdinFile?: string | undefined; onStdinBytes?: ((bytes: number) => void) | undefined; env?: Record<string, string> | undefined }): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Reports the bytes of several seed files read so far, as one count across them. */
function seedBytes(onLoaded: ((bytes: number) => void) | undefined): { file: () => ((bytes: number) => void) | undefined } {
  let before = 0;
  let current = 0;
  return {
    file: () => {
      before += current;
      current = 0;
      if (!onLoaded) return undefined;
      return (bytes) => {
        current = bytes;
        onLoaded(before + bytes);
      };
    },
  };
}

/** A database's name for the copy made beside it (postgres and mariadb names: at most 63 and 64 characters). */
function besideName(name: string, tag: 'restoring' | 'replaced'): string {
  return `${name.slice(0, 52)}_${tag}`;
}

function failed(what: string, target: EngineTarget, r: { code: number; stderr: string }): CiloError {
  const tail = r.stderr.trim().split('\n').slice(-3).join(' ');
  return new CiloError('SERVICE_FAILED', `${what} failed in the shared ${target.engine} container ${target.container} (exit ${r.code}): ${tail}`, {
    hint: `See \`docker logs ${target.container}\`, fix the cause, and run the same command again.`,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Tab-separated rows of a client's unaligned output. */
function tsv(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** Waits until a probe query succeeds inside the container. */
function answers(timeoutMs: number, what: string, probe: () => ReturnType<EngineExec['run']>, ok: (stdout: string) => boolean = () => true): Promise<void> {
  return poll(timeoutMs, async () => {
    const r = await probe();
    return { ok: r.code === 0 && ok(r.stdout), error: r.stderr || r.stdout };
  }, what);
}

async function poll(timeoutMs: number, probe: () => Promise<{ ok: boolean; error: string }>, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await probe();
    if (r.ok) return;
    last = r.error;
    if (Date.now() > deadline) {
      throw new CiloError('TIMEOUT', `${what} did not answer within ${Math.round(timeoutMs / 1000)} s (${last.trim().split('\n').pop() ?? ''}).`, { hint: 'Check its logs with `docker logs`, then run the same command again.' });
    }
    await sleep(300);
  }
}

/** An engine reached through its own client program in the container, with its password in the variable the client reads. */
abstract class ClientEngine {
  constructor(
    protected readonly exec: EngineExec,
    protected readonly t: EngineTarget,
    protected readonly secrets: Record<string, string>,
  ) {}
}

/**
 * Below this size a template is cloned through the WAL rather than as a file copy: the file
 * copy's two checkpoints (flushing every dirty page of the shared server) cost about a second
 * whatever the size, the WAL costs in proportion to it (equal near 200 MB on a loaded machine).
 */
const SMALL_TEMPLATE_BYTES = 64 * 1024 * 1024;

class Postgres extends ClientEngine implements DatasetEngine {
  readonly unit = 'bytes' as const;
  private readonly user = this.t.env.POSTGRES_USER ?? 'postgres';
  private version: number | undefined;

  private psql(db: string, sql: string | undefined, file?: string, onStdinBytes?: (bytes: number) => void): ReturnType<EngineExec['run']> {
    const argv = ['psql', '-h', '127.0.0.1', '-U', this.user, '-d', db, '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-f', '-'];
    return this.exec.run(this.t.container, argv, { stdin: sql, stdinFile: file, onStdinBytes, env: this.secrets });
  }

  private async sql(sql: string, what: string, db = 'postgres'): Promise<string[][]> {
    const r = await this.psql(db, sql);
    if (r.code !== 0) throw failed(what, this.t, r);
    return tsv(r.stdout);
  }

  /** Waits for the server over TCP, and learns its version on the way (one exec less per clone). */
  ready(timeoutMs: number): Promise<void> {
    return answers(timeoutMs, `postgres in ${this.t.container}`, () => this.psql('postgres', 'SHOW server_version_num'), (out) => {
      this.version = Number(out.trim()) || undefined;
      return true;
    });
  }

  async inventory(): Promise<EngineDataset[]> {
    const rows = await this.sql(`SELECT datname, coalesce(shobj_description(oid, 'pg_database'), ''), pg_database_size(oid) FROM pg_database WHERE datname NOT IN ('template0', 'template1')`, 'Listing databases');
    return rows.map(([name = '', comment = '', size = '0']) => ({ name, owner: parseMarker(comment), template: comment.startsWith('cilo:template'), size: Number(size) }));
  }

  private async comment(name: string): Promise<string | undefined> {
    const rows = await this.sql(`SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = ${pgLiteral(name)}`, 'Looking up a database');
    return rows[0]?.[0];
  }

  private async serverVersion(): Promise<number> {
    this.version ??= Number((await this.sql('SHOW server_version_num', 'Reading the server version'))[0]?.[0] ?? 0);
    return this.version;
  }

  async ensureTemplate(name: string, seeds: SeedFile[], onLoaded?: (bytes: number) => void): Promise<boolean> {
    const comment = await this.comment(name);
    if (comment === 'cilo:template') return false;
    if (comment !== undefined) await this.sql(`ALTER DATABASE ${pgIdent(name)} IS_TEMPLATE false; DROP DATABASE ${pgIdent(name)} WITH (FORCE)`, 'Dropping an incomplete template');
    // Built under another name and renamed once complete: a template that exists is whole.
    const building = `${name}_building`;
    await this.sql(`DROP DATABASE IF EXISTS ${pgIdent(building)} WITH (FORCE)`, 'Dropping a half-built template');
    await this.sql(`CREATE DATABASE ${pgIdent(building)} OWNER ${pgIdent(this.user)}`, 'Creating the template');
    const bytes = seedBytes(onLoaded);
    for (const seed of seeds) {
      const r = await this.psql(building, undefined, seed.path, bytes.file());
      if (r.code !== 0) throw failed(`Loading the seed ${seed.path}`, this.t, r);
    }
    await this.sql(
      [
        `ALTER DATABASE ${pgIdent(building)} RENAME TO ${pgIdent(name)}`,
        `COMMENT ON DATABASE ${pgIdent(name)} IS 'cilo:template'`,
        // Nobody may open a session on it: postgres refuses to clone a database with sessions.
        `ALTER DATABASE ${pgIdent(name)} ALLOW_CONNECTIONS false`,
        `ALTER DATABASE ${pgIdent(name)} IS_TEMPLATE true`,
      ].join(';\n'),
      'Finishing the template',
    );
    return true;
  }

  allocate(wanted: string): Promise<string> {
    return Promise.resolve(wanted);
  }

  /**
   * Ends sessions on the template (a seed's template: it should have none), then clones it and
   * marks the clone, in one psql run; names who still holds the template after a few tries.
   */
  private async cloneFromTemplate(name: string, template: string, marker: string): Promise<void> {
    const strategy = (await this.serverVersion()) >= 150000 ? ' STRATEGY FILE_COPY' : '';
    const limit = this.t.connectionLimit ? ` CONNECTION LIMIT ${this.t.connectionLimit}` : '';
    const script = [
      `ALTER DATABASE ${pgIdent(template)} ALLOW_CONNECTIONS false`,
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${pgLiteral(template)} AND pid <> pg_backend_pid()`,
      `CREATE DATABASE ${pgIdent(name)} TEMPLATE ${pgIdent(template)}${strategy} OWNER ${pgIdent(this.user)}${limit}`,
      `COMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(marker)}`,
    ].join(';\n');
    let last = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      const r = await this.psql('postgres', script);
      if (r.code === 0) return;
      last = r.stderr;
      if (!/being accessed by other users/.test(r.stderr)) throw failed(`Cloning ${template} into ${name}`, this.t, r);
    }
    const who = await this.sql(`SELECT usename || ' (' || coalesce(nullif(application_name, ''), 'no application name') || ', pid ' || pid || ')' FROM pg_stat_activity WHERE datname = ${pgLiteral(template)}`, 'Naming the sessions on the template');
    throw new CiloError('SERVICE_FAILED', `Cannot clone template ${template} into ${name}: it is held by ${who.map((w) => w[0]).join(', ') || 'another session'} (${last.trim().split('\n').pop() ?? ''}).`, {
      hint: `End that session (SELECT pg_terminate_backend(pid) in ${this.t.container}), then run the same command again.`,
    });
  }

  async holds(name: string, marker: { project: string; env: string }): Promise<boolean> {
    return (await this.comment(name)) === datasetMarker(marker.project, marker.env);
  }

  /**
   * What ready, ensureTemplate and create ask one after another (each a `docker exec`, about
   * 0.1 s), asked and acted on in one psql run: the template's and the dataset's comments and the
   * server's version read into variables, then the clone made only when the template is whole
   * and the dataset absent. Any other answer, or a failure, leaves the long way to decide.
   */
  async quickCreate(name: string, template: string, marker: { project: string; env: string }): Promise<'made' | 'held' | undefined> {
    const done = datasetMarker(marker.project, marker.env);
    const limit = this.t.connectionLimit ? ` CONNECTION LIMIT ${this.t.connectionLimit}` : '';
    const comment = (db: string): string => `(SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ${pgLiteral(db)})`;
    const create = (strategy: string): string => `CREATE DATABASE ${pgIdent(name)} TEMPLATE ${pgIdent(template)}${strategy} OWNER ${pgIdent(this.user)}${limit};`;
    const script = [
      `SELECT coalesce(${comment(name)}, '') = ${pgLiteral(done)} AS held, NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${pgLiteral(name)}) AS absent, coalesce(${comment(template)}, '') = 'cilo:template' AS whole, current_setting('server_version_num')::int >= 150000 AS v15, coalesce((SELECT pg_database_size(oid) < ${SMALL_TEMPLATE_BYTES} FROM pg_database WHERE datname = ${pgLiteral(template)}), false) AS small \\gset`,
      '\\if :held',
      '\\echo held',
      '\\elif :whole',
      '\\if :absent',
      `ALTER DATABASE ${pgIdent(template)} ALLOW_CONNECTIONS false;`,
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${pgLiteral(template)} AND pid <> pg_backend_pid();`,
      // A small template through the WAL (postgres 15's default): no checkpoint, a tenth of the
      // time of a file copy for a seed of a few MB; a large one as a file copy.
      '\\if :small',
      create(''),
      '\\elif :v15',
      create(' STRATEGY FILE_COPY'),
      '\\else',
      create(''),
      '\\endif',
      `COMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(done)};`,
      '\\echo made',
      '\\endif',
      '\\endif',
    ].join('\n');
    const r = await this.psql('postgres', script);
    if (r.code !== 0) return undefined;
    const said = r.stdout.split('\n').map((l) => l.trim());
    return said.includes('made') ? 'made' : said.includes('held') ? 'held' : undefined;
  }

  async create(name: string, source: DatasetSource, marker: { project: string; env: string }): Promise<boolean> {
    const done = datasetMarker(marker.project, marker.env);
    const comment = await this.comment(name);
    if (comment === done || (comment !== undefined && !comment.startsWith('cilo:'))) return false;
    if (comment !== undefined) await this.drop(name); // a copy interrupted while loading
    if (source.kind === 'template') {
      await this.cloneFromTemplate(name, source.name, done);
      return true;
    }
    if (source.kind === 'dataset') {
      await this.copy(name, source.name, marker);
      return true;
    }
    await this.createEmpty(name, `${done}:loading`);
    await this.sql(`COMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(done)}`, `Marking database ${name}`);
    return true;
  }

  private async createEmpty(name: string, comment: string): Promise<void> {
    const limit = this.t.connectionLimit ? ` CONNECTION LIMIT ${this.t.connectionLimit}` : '';
    await this.sql(`CREATE DATABASE ${pgIdent(name)} OWNER ${pgIdent(this.user)}${limit};\nCOMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(comment)}`, `Creating database ${name}`);
  }

  /**
   * A file copy (CREATE DATABASE ... TEMPLATE) while `from` has no client session: postgres
   * refuses one while a session is open, and ending those would kill the source's applications
   * (a fork's source keeps running). With sessions, or when one opens before the clone starts:
   * pg_dump | psql, one consistent snapshot read while they go on. One exec per way where it
   * can be (each is a round trip to the engine): leftovers dropped, sessions counted and the
   * clone made in one psql run; the dump made and marked complete in another.
   */
  async copy(name: string, from: string, marker: { project: string; env: string }): Promise<CopyMethod> {
    const done = datasetMarker(marker.project, marker.env);
    const strategy = (await this.serverVersion()) >= 150000 ? ' STRATEGY FILE_COPY' : '';
    const limit = this.t.connectionLimit ? ` CONNECTION LIMIT ${this.t.connectionLimit}` : '';
    const clone = [
      `DROP DATABASE IF EXISTS ${pgIdent(name)} WITH (FORCE);`,
      // Autovacuum workers on it do not count: CREATE DATABASE ends those itself.
      `SELECT count(*) = 0 AS idle FROM pg_stat_activity WHERE datname = ${pgLiteral(from)} AND pid <> pg_backend_pid() AND backend_type = 'client backend' \\gset`,
      '\\if :idle',
      `CREATE DATABASE ${pgIdent(name)} TEMPLATE ${pgIdent(from)}${strategy} OWNER ${pgIdent(this.user)}${limit};`,
      `COMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(done)};`,
      '\\echo cloned',
      '\\endif',
    ].join('\n');
    const r = await this.psql('postgres', clone);
    if (r.code === 0 && r.stdout.includes('cloned')) return 'template';
    // A session opened between the count and the clone: postgres made nothing; dump instead.
    if (r.code !== 0 && !/being accessed by other users/.test(r.stderr)) throw failed(`Cloning ${from} into ${name}`, this.t, r);
    const copy = '(set -o pipefail) 2>/dev/null && set -o pipefail; psql -h 127.0.0.1 -U "$1" -X -q -v ON_ERROR_STOP=1 -d postgres -c "$4" -c "$5" && pg_dump -h 127.0.0.1 -U "$1" --no-owner "$2" | psql -h 127.0.0.1 -U "$1" -X -q -v ON_ERROR_STOP=1 -d "$3" && psql -h 127.0.0.1 -U "$1" -X -q -v ON_ERROR_STOP=1 -d postgres -c "$6"';
    const make = `CREATE DATABASE ${pgIdent(name)} OWNER ${pgIdent(this.user)}${limit}`;
    const loading = `COMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(`${done}:loading`)}`;
    const mark = `COMMENT ON DATABASE ${pgIdent(name)} IS ${pgLiteral(done)}`;
    const d = await this.exec.run(this.t.container, ['sh', '-c', copy, 'sh', this.user, from, name, make, loading, mark], { env: this.secrets });
    if (d.code !== 0) throw failed(`Copying ${from} into ${name}`, this.t, d);
    return 'dump';
  }

  /**
   * The copy under another name, then a swap of names in one transaction (renames may run in
   * one; the replaced database is dropped after): `name` is at every moment either the old
   * dataset or the whole copy.
   */
  async replace(name: string, from: string, marker: { project: string; env: string }): Promise<CopyMethod> {
    const fresh = besideName(name, 'restoring');
    const old = besideName(name, 'replaced');
    await this.sql(`DROP DATABASE IF EXISTS ${pgIdent(fresh)} WITH (FORCE);\nDROP DATABASE IF EXISTS ${pgIdent(old)} WITH (FORCE)`, 'Dropping copies left by an interrupted restore');
    // A dump that fails part-way leaves a half-loaded copy: dropped here, not at the next restore.
    const method = await this.copy(fresh, from, marker).catch(async (e: unknown) => {
      await this.drop(fresh).catch(() => undefined);
      throw e;
    });
    const current = await this.sql(`SELECT datconnlimit FROM pg_database WHERE datname = ${pgLiteral(name)}`, `Looking up ${name}`);
    if (current.length === 0) {
      await this.sql(`ALTER DATABASE ${pgIdent(fresh)} RENAME TO ${pgIdent(name)}`, `Renaming ${fresh} to ${name}`);
      return method;
    }
    const script = [
      // No new session on it, then its sessions ended: a database in use cannot be renamed.
      `ALTER DATABASE ${pgIdent(name)} ALLOW_CONNECTIONS false`,
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${pgLiteral(name)} AND pid <> pg_backend_pid()`,
      'BEGIN',
      `ALTER DATABASE ${pgIdent(name)} RENAME TO ${pgIdent(old)}`,
      `ALTER DATABASE ${pgIdent(fresh)} RENAME TO ${pgIdent(name)}`,
      `ALTER DATABASE ${pgIdent(name)} CONNECTION LIMIT ${Number(current[0]?.[0] ?? -1)}`,
      'COMMIT',
    ].join(';\n');
    let last: { code: number; stderr: string } = { code: 0, stderr: '' };
    for (let attempt = 0; attempt < 4; attempt++) {
      last = await this.psql('postgres', script);
      if (last.code === 0) break;
      // A session that was ending still counted: try again.
      if (!/being accessed by other users/.test(last.stderr)) break;
    }
    if (last.code !== 0) {
      // The swap did not happen (one transaction): the old dataset is back in use, the copy dropped.
      await this.sql(`ALTER DATABASE ${pgIdent(name)} ALLOW_CONNECTIONS true`, `Reopening ${name}`);
      await this.drop(fresh);
      throw failed(`Replacing ${name} by its copy ${fresh}`, this.t, last);
    }
    await this.drop(old);
    return method;
  }

  async drop(name: string): Promise<void> {
    // WITH (FORCE) ends the sessions on this database only.
    await this.sql(`DROP DATABASE IF EXISTS ${pgIdent(name)} WITH (FORCE)`, `Dropping database ${name}`);
  }

  async dropTemplate(name: string): Promise<void> {
    // Postgres refuses to drop a database marked as a template.
    const exists = (await this.sql(`SELECT 1 FROM pg_database WHERE datname = ${pgLiteral(name)}`, `Finding template ${name}`)).length > 0;
    if (exists) await this.sql(`ALTER DATABASE ${pgIdent(name)} IS_TEMPLATE false; DROP DATABASE ${pgIdent(name)} WITH (FORCE)`, `Dropping template ${name}`);
  }
}

/** A client program of the engine's image: mariadb's names first, then mysql's. */
const MYSQL_CLIENT = 'exec "$(command -v mariadb || command -v mysql)" "$@"';

class MariaDb extends ClientEngine implements DatasetEngine {
  readonly unit = 'bytes' as const;

  private client(db: string | undefined, sql: string | undefined, file?: string, onStdinBytes?: (bytes: number) => void): ReturnType<EngineExec['run']> {
    const argv = ['sh', '-c', MYSQL_CLIENT, 'sh', '-h127.0.0.1', '-uroot', '--batch', '--skip-column-names', ...(db ? [db] : [])];
    return this.exec.run(this.t.container, argv, { stdin: sql, stdinFile: file, onStdinBytes, env: this.secrets });
  }

  private async sql(sql: string, what: string): Promise<string[][]> {
    const r = await this.client(undefined, sql);
    if (r.code !== 0) throw failed(what, this.t, r);
    return tsv(r.stdout);
  }

  ready(timeoutMs: number): Promise<void> {
    return answers(timeoutMs, `${this.t.engine} in ${this.t.container}`, () => this.client(undefined, 'SELECT 1'));
  }

  private get comments(): boolean {
    return this.t.engine === 'mariadb';
  }

  async inventory(): Promise<EngineDataset[]> {
    const comment = this.comments ? 'SCHEMA_COMMENT' : "''";
    const rows = await this.sql(
      `SELECT s.SCHEMA_NAME, ${comment}, coalesce(sum(t.DATA_LENGTH + t.INDEX_LENGTH), 0) FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME WHERE s.SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') GROUP BY s.SCHEMA_NAME, ${comment}`,
      'Listing databases',
    );
    return rows.map(([name = '', c = '', size = '0']) => ({ name, owner: parseMarker(c), template: c.startsWith('cilo:template'), size: Number(size) }));
  }

  private async comment(name: string): Promise<string | undefined> {
    const col = this.comments ? 'SCHEMA_COMMENT' : "'cilo:?'";
    const rows = await this.sql(`SELECT ${col} FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${pgLiteral(name)}`, 'Looking up a database');
    return rows[0]?.[0] ?? (rows.length > 0 ? '' : undefined);
  }

  private setComment(name: string, comment: string): string {
    return this.comments ? `ALTER DATABASE ${sqlIdent(name)} COMMENT ${pgLiteral(comment)};` : '';
  }

  async ensureTemplate(name: string, seeds: SeedFile[], onLoaded?: (bytes: number) => void): Promise<boolean> {
    const comment = await this.comment(name);
    if (comment === 'cilo:template' || (!this.comments && comment !== undefined)) return false;
    await this.sql(`DROP DATABASE IF EXISTS ${sqlIdent(name)}; CREATE DATABASE ${sqlIdent(name)}; ${this.setComment(name, 'cilo:template:loading')}`, 'Creating the template');
    const bytes = seedBytes(onLoaded);
    for (const seed of seeds) {
      const r = await this.client(name, undefined, seed.path, bytes.file());
      if (r.code !== 0) throw failed(`Loading the seed ${seed.path}`, this.t, r);
    }
    if (this.comments) await this.sql(this.setComment(name, 'cilo:template'), 'Finishing the template');
    return true;
  }

  allocate(wanted: string): Promise<string> {
    return Promise.resolve(wanted);
  }

  async holds(name: string, marker: { project: string; env: string }): Promise<boolean> {
    const comment = await this.comment(name);
    return this.comments ? comment === datasetMarker(marker.project, marker.env) : comment !== undefined;
  }

  async create(name: string, source: DatasetSource, marker: { project: string; env: string }): Promise<boolean> {
    const done = datasetMarker(marker.project, marker.env);
    const comment = await this.comment(name);
    if (comment === done || (comment !== undefined && !comment.startsWith('cilo:'))) return false;
    await this.fill(name, source.kind === 'empty' ? undefined : source.name, done);
    return true;
  }

  /**
   * Makes `name` anew and loads it from database `from` (a seed's template or a dataset) with a
   * dump: --single-transaction reads one consistent snapshot without locking, so the source's
   * sessions go on.
   */
  private async fill(name: string, from: string | undefined, done: string): Promise<void> {
    await this.sql(`DROP DATABASE IF EXISTS ${sqlIdent(name)}; CREATE DATABASE ${sqlIdent(name)}; ${this.setComment(name, `${done}:loading`)}`, `Creating database ${name}`);
    if (from !== undefined) {
      const dump = '(set -o pipefail) 2>/dev/null && set -o pipefail; set -e; dump=$(command -v mariadb-dump || command -v mysqldump); client=$(command -v mariadb || command -v mysql); "$dump" -h127.0.0.1 -uroot --single-transaction --routines --triggers "$1" | "$client" -h127.0.0.1 -uroot "$2"';
      const r = await this.exec.run(this.t.container, ['sh', '-c', dump, 'sh', from, name], { env: this.secrets });
      if (r.code !== 0) throw failed(`Copying ${from} into ${name}`, this.t, r);
    }
    const user = this.t.env.MARIADB_USER ?? this.t.env.MYSQL_USER;
    // The application's user has rights on the base database only; give it its environment's.
    const grant = user ? `GRANT ALL ON ${sqlIdent(name)}.* TO ${pgLiteral(user)}@'%';` : '';
    await this.sql(`${grant} ${this.setComment(name, done)}`, `Finishing database ${name}`);
  }

  async copy(name: string, from: string, marker: { project: string; env: string }): Promise<CopyMethod> {
    await this.fill(name, from, datasetMarker(marker.project, marker.env));
    return 'dump';
  }

  /**
   * A dump into a database beside `name` first; only once that is whole is `name` made anew
   * from it (no rename of databases here). Should that second load fail, the data is still in
   * the copy, which the error names.
   */
  async replace(name: string, from: string, marker: { project: string; env: string }): Promise<CopyMethod> {
    const fresh = besideName(name, 'restoring');
    const done = datasetMarker(marker.project, marker.env);
    // A load that fails part-way leaves a half-filled copy: dropped here, `name` untouched.
    await this.fill(fresh, from, done).catch(async (e: unknown) => {
      await this.drop(fresh).catch(() => undefined);
      throw e;
    });
    await this.drop(name);
    try {
      await this.fill(name, fresh, done);
    } catch (e) {
      throw e instanceof CiloError ? e.withDetail(`The snapshot's data is in database ${fresh} of ${this.t.container}.`) : e;
    }
    await this.drop(fresh);
    return 'dump';
  }

  async drop(name: string): Promise<void> {
    // End only this database's sessions: DROP would wait on their locks.
    const ids = await this.sql(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ${pgLiteral(name)} AND ID <> CONNECTION_ID()`, 'Listing sessions');
    const kills = ids.map(([id]) => `KILL ${Number(id)};`).join(' ');
    if (kills) await this.client(undefined, kills);
    await this.sql(`DROP DATABASE IF EXISTS ${sqlIdent(name)}`, `Dropping database ${name}`);
  }

  dropTemplate(name: string): Promise<void> {
    return this.drop(name);
  }
}

const REDIS_CLI = 'exec "$(command -v redis-cli || command -v valkey-cli)" "$@"';
const MARKER_KEY = 'cilo:dataset';

class Redis extends ClientEngine implements DatasetEngine {
  readonly unit = 'keys' as const;

  private cli(args: string[], file?: string, stdin?: string): ReturnType<EngineExec['run']> {
    return this.exec.run(this.t.container, ['sh', '-c', REDIS_CLI, 'sh', '-h', '127.0.0.1', ...args], { stdinFile: file, stdin, env: this.secrets });
  }

  private async out(args: string[], what: string): Promise<string> {
    const r = await this.cli(args);
    if (r.code !== 0 || /^(ERR|WRONGTYPE|NOAUTH)/m.test(r.stdout)) throw failed(what, this.t, { code: r.code, stderr: r.stderr || r.stdout });
    return r.stdout;
  }

  ready(timeoutMs: number): Promise<void> {
    return answers(timeoutMs, `${this.t.engine} in ${this.t.container}`, () => this.cli(['PING']), (out) => out.includes('PONG'));
  }

  private async keyspace(): Promise<Map<number, number>> {
    const info = await this.out(['INFO', 'keyspace'], 'Reading the keyspace');
    const m = new Map<number, number>();
    for (const [, db, keys] of info.matchAll(/^db(\d+):keys=(\d+)/gm)) m.set(Number(db), Number(keys));
    return m;
  }

  async inventory(): Promise<EngineDataset[]> {
    const out: EngineDataset[] = [];
    for (const [db, keys] of await this.keyspace()) {
      const marker = (await this.out(['-n', String(db), 'GET', MARKER_KEY], 'Reading a marker')).trim();
      out.push({ name: String(db), owner: parseMarker(marker), template: false, size: keys });
    }
    return out;
  }

  ensureTemplate(): Promise<boolean> {
    return Promise.resolve(false); // seeds are loaded into each index directly: fast enough for redis
  }

  async allocate(_wanted: string, held: string[]): Promise<string> {
    // Both answers in one redis-cli run (commands read from its stdin): the setting's name and
    // value on two lines, then the keyspace.
    const r = await this.cli([], undefined, 'CONFIG GET databases\nINFO keyspace\n');
    if (r.code !== 0 || /^(ERR|NOAUTH)/m.test(r.stdout)) throw failed('Reading the number of databases', this.t, { code: r.code, stderr: r.stderr || r.stdout });
    const databases = Number(r.stdout.split('\n')[1]?.trim() || 16);
    const used = [...r.stdout.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => Number(m[1]));
    const free = lowestFreeIndex(databases, held.map(Number), used);
    if (free === undefined) {
      throw new CiloError('SERVICE_FAILED', `Every database index of the shared ${this.t.engine} container ${this.t.container} is taken (its \`databases\` setting is ${databases}; index 0 stays the project's own).`, {
        hint: 'Destroy environments you no longer need, or raise `databases` in its configuration (e.g. command: redis-server --databases 64).',
      });
    }
    return String(free);
  }

  /** Its marker, or any keys (an application may have flushed the marker with its own data). */
  async holds(name: string, marker: { project: string; env: string }): Promise<boolean> {
    if ((await this.out(['-n', name, 'GET', MARKER_KEY], 'Reading a marker')).trim() === datasetMarker(marker.project, marker.env)) return true;
    return Number((await this.out(['-n', name, 'DBSIZE'], 'Counting keys')).trim()) > 0;
  }

  /**
   * A seed of one file (or none) in one exec: the marker read, and unless it is this
   * environment's, the index emptied, the seed's commands run and the marker set, the marker
   * only once no command of the seed failed (a half-loaded index is never marked complete).
   */
  async create(name: string, source: DatasetSource, marker: { project: string; env: string }): Promise<boolean> {
    const done = datasetMarker(marker.project, marker.env);
    const seeds = source.kind === 'template' ? source.seeds : [];
    if (source.kind === 'dataset' || seeds.length > 1) return this.createStepwise(name, source, done);
    const script = [
      'cli=$(command -v redis-cli || command -v valkey-cli)',
      `if [ "$("$cli" -h 127.0.0.1 -n "$1" GET ${MARKER_KEY})" = "$2" ]; then echo cilo:held; exit 0; fi`,
      // The seed's last line may lack its newline: the echo after it ends it (an empty line is skipped).
      `{ echo FLUSHDB;${seeds.length > 0 ? ' cat; echo;' : ''} } | "$cli" -h 127.0.0.1 -n "$1" | awk '/^(ERR|WRONGTYPE|NOAUTH)/ { bad = 1; print } END { exit bad ? 3 : 0 }' && "$cli" -h 127.0.0.1 -n "$1" SET ${MARKER_KEY} "$2" >/dev/null`,
    ].join('\n');
    const r = await this.exec.run(this.t.container, ['sh', '-c', script, 'sh', name, done], { stdinFile: seeds[0]?.path, env: this.secrets });
    if (r.code !== 0) throw failed(seeds[0] ? `Loading the seed ${seeds[0].path}` : `Emptying index ${name}`, this.t, { code: r.code, stderr: `${r.stderr}\n${r.stdout}`.trim() });
    return !r.stdout.split('\n').includes('cilo:held');
  }

  /** The same, one command at a time: a copy of another index, or a seed of several files. */
  private async createStepwise(name: string, source: DatasetSource, done: string): Promise<boolean> {
    const current = (await this.out(['-n', name, 'GET', MARKER_KEY], 'Reading a marker')).trim();
    if (current === done) return false;
    await this.out(['-n', name, 'FLUSHDB'], `Emptying index ${name}`);
    if (source.kind === 'template') {
      for (const seed of source.seeds) {
        const r = await this.cli(['-n', name], seed.path);
        if (r.code !== 0 || /^ERR/m.test(r.stdout)) throw failed(`Loading the seed ${seed.path}`, this.t, { code: r.code, stderr: r.stderr || r.stdout });
      }
    } else if (source.kind === 'dataset') {
      await this.copyKeys(name, source.name);
    }
    await this.out(['-n', name, 'SET', MARKER_KEY, done], `Marking index ${name}`);
    return true;
  }

  /** One script, so the keys are one moment's; sessions on either index are not touched. */
  private async copyKeys(name: string, from: string): Promise<void> {
    const copy = `for _, k in ipairs(redis.call('KEYS', '*')) do redis.call('COPY', k, k, 'DB', ARGV[1], 'REPLACE') end return 1`;
    await this.out(['-n', from, 'EVAL', copy, '0', name], `Copying index ${from} into ${name}`);
  }

  async copy(name: string, from: string, marker: { project: string; env: string }): Promise<CopyMethod> {
    await this.out(['-n', name, 'FLUSHDB'], `Emptying index ${name}`);
    await this.copyKeys(name, from);
    await this.out(['-n', name, 'SET', MARKER_KEY, datasetMarker(marker.project, marker.env)], `Marking index ${name}`);
    return 'keys';
  }

  /** Into a free index first, then SWAPDB (atomic), then the old keys emptied. */
  async replace(name: string, from: string, marker: { project: string; env: string }, held: string[]): Promise<CopyMethod> {
    const spare = await this.allocate('', [...held, name, from]);
    try {
      await this.copy(spare, from, marker);
      await this.out(['SWAPDB', name, spare], `Swapping index ${spare} into ${name}`);
    } finally {
      await this.out(['-n', spare, 'FLUSHDB'], `Emptying index ${spare}`);
    }
    return 'keys';
  }

  async drop(name: string): Promise<void> {
    await this.out(['-n', name, 'FLUSHDB'], `Emptying index ${name}`);
  }

  dropTemplate(): Promise<void> {
    return Promise.resolve(); // redis has no templates (see ensureTemplate)
  }
}

/** A password for the engine's client, passed as the variable that client reads (never on a command line). */
function secret(name: string, value: string | undefined): Record<string, string> {
  return value ? { [name]: value } : {};
}

export function datasetEngine(exec: EngineExec, target: EngineTarget): DatasetEngine {
  const e = target.env;
  switch (target.engine) {
    case 'postgres':
      return new Postgres(exec, target, secret('PGPASSWORD', e.POSTGRES_PASSWORD));
    case 'mariadb':
    case 'mysql':
      return new MariaDb(exec, target, secret('MYSQL_PWD', e.MARIADB_ROOT_PASSWORD ?? e.MYSQL_ROOT_PASSWORD));
    default:
      return new Redis(exec, target, secret('REDISCLI_AUTH', e.REDIS_PASSWORD ?? e.VALKEY_PASSWORD));
  }
}
