/**
 * `.cilo/meta.json` in a workspace: what the environment is, for people and programs working in
 * it (its name, project, source, subnet and network). Informational: cilo never reads it back.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkName } from '../domain/names.js';
import type { EnvironmentState } from '../domain/state.js';

type MetaOf = Pick<EnvironmentState, 'name' | 'project' | 'source' | 'workspace' | 'subnet' | 'created_at'>;

export function writeWorkspaceMeta(env: MetaOf): void {
  mkdirSync(join(env.workspace, '.cilo'), { recursive: true });
  const meta = { env: env.name, project: env.project, source: env.source, subnet: env.subnet, network: networkName(env.project, env.name), created_at: env.created_at };
  writeFileSync(join(env.workspace, '.cilo', 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

/** After the environment moved to another subnet; a missing or edited file is left alone. */
export function updateWorkspaceMetaSubnet(env: Pick<EnvironmentState, 'workspace' | 'subnet'>): void {
  const file = join(env.workspace, '.cilo', 'meta.json');
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (meta.subnet === env.subnet) return;
    meta.subnet = env.subnet;
    writeFileSync(file, `${JSON.stringify(meta, null, 2)}\n`);
  } catch {
    // informational only
  }
}
