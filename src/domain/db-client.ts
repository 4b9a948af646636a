/**
 * The engine's own client for `cilo db shell|dump|load` (issue #25), run inside the shared
 * engine's container on one environment's dataset: psql / pg_dump for postgres, mariadb (or
 * mysql) / mariadb-dump (or mysqldump) for mariadb and mysql, redis-cli (or valkey-cli) for a
 * shell on a redis index. Passwords come from the container's own variables inside its shell,
 * never from cilo's command line. Pure: argv only.
 */
import { CiloError } from '../errors.js';

export type DbAction = 'shell' | 'dump' | 'load';

const PG_AUTH = '[ -n "$POSTGRES_PASSWORD" ] && export PGPASSWORD="$POSTGRES_PASSWORD"; ';
const PG = 'psql -h 127.0.0.1 -U "${POSTGRES_USER:-postgres}"';
const MY_AUTH = 'p="${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}"; [ -n "$p" ] && export MYSQL_PWD="$p"; ';
const MY_CLIENT = '"$(command -v mariadb || command -v mysql)" -h127.0.0.1 -uroot';
const MY_DUMP = '"$(command -v mariadb-dump || command -v mysqldump)" -h127.0.0.1 -uroot --single-transaction --routines';
const REDIS_AUTH = 'p="${REDIS_PASSWORD:-$VALKEY_PASSWORD}"; [ -n "$p" ] && export REDISCLI_AUTH="$p"; ';

const SCRIPTS: Record<string, Partial<Record<DbAction, string>>> = {
  postgres: {
    shell: `${PG_AUTH}exec ${PG} -d "$1"`,
    dump: `${PG_AUTH}exec pg_dump -h 127.0.0.1 -U "\${POSTGRES_USER:-postgres}" --no-owner --no-privileges -d "$1"`,
    load: `${PG_AUTH}exec ${PG} -X -q -v ON_ERROR_STOP=1 -d "$1"`,
  },
  mariadb: {
    shell: `${MY_AUTH}exec ${MY_CLIENT} "$1"`,
    dump: `${MY_AUTH}exec ${MY_DUMP} "$1"`,
    load: `${MY_AUTH}exec ${MY_CLIENT} "$1"`,
  },
  redis: { shell: `${REDIS_AUTH}exec "$(command -v redis-cli || command -v valkey-cli)" -n "$1"` },
};

/**
 * The argv to run inside the engine's container for `action` on dataset `name`. Redis has no
 * dump of one index that loads into another (its RDB files hold the whole server), so dump and
 * load are refused there with a sentence saying what to use instead.
 */
export function dbClientArgv(engine: string, action: DbAction, name: string, what: { env: string; service: string }): string[] {
  const family = engine === 'mysql' ? 'mariadb' : engine === 'valkey' ? 'redis' : engine;
  const script = SCRIPTS[family]?.[action];
  if (script === undefined) {
    throw new CiloError('USAGE', `\`cilo db ${action}\` does not work on ${engine} (service "${what.service}" of ${what.env}): a redis dump holds the whole server, not one index.`, {
      hint: `Use \`cilo db shell ${what.env} ${what.service}\` (redis-cli on index ${name}), or copy the index with \`cilo up <new-env> --db-from ${what.env}\`.`,
    });
  }
  return ['sh', '-c', script, 'sh', name];
}
