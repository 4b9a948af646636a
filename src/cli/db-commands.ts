/** The `db` command group: private datasets in shared engines (issue #15). */
import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function registerDbCommands(program: Command): void {
  const db = program
    .command('db')
    .description('private datasets of environments in shared database engines (cilo.share.isolate)')
    .addHelpText('after', '\nA shared service labelled `cilo.share.isolate: database` (postgres, mariadb, mysql) or `db-index` (redis, valkey)\ngives every environment its own database, cloned from a template of `cilo.share.seed`.');
  db.command('list')
    .description('list datasets: environment, service, engine, kind, name, template, size')
    .argument('[env]', 'only this environment')
    .option('--project <name>', 'only this project')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/db-list.js')));
  db.command('reset')
    .description("return an environment's datasets to the seed (ends only that environment's sessions)")
    .argument('<env>', 'environment name')
    .argument('[service]', 'only this shared service')
    .option('--project <name>', 'project name (must match the environment)')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/db-reset.js')));
}
