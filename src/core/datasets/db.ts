/**
 * The `cilo db` use-cases over an environment: its project's model resolved as `up` resolves
 * it, then the dataset steps of core/datasets/datasets.ts.
 */
import { atSite } from '../sites/reach.js';
import { loadProjectConfig } from '../../config/load.js';
import type { SiteContext } from '../sites/site.js';
import { chosenSharedServices, isolationSpecs, type IsolationSpec } from '../../domain/datasets.js';
import type { ComposeModel } from '../../domain/compose-model.js';
import type { EnvironmentState } from '../../domain/state.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { listDatasets, resetDatasets, type DatasetView } from './datasets.js';
import { sourceTarget } from '../project/env-compose.js';
import { findEnv } from '../environments/lookup.js';

/** The environment's isolating shared services, as its last `up` chose them (with its profiles). */
async function specsOf(ctx: SiteContext, env: EnvironmentState): Promise<{ model: ComposeModel; specs: IsolationSpec[] }> {
  const config = loadProjectConfig(env.workspace);
  const model = await ctx.site.compose.resolveModel(sourceTarget(env, config, env.profiles ?? []));
  const shared = chosenSharedServices(model, env.share_flags ?? { shared: [], isolate: [] }, config.services);
  return { model, specs: isolationSpecs(model, shared, config.services) };
}

export async function resetEnvironmentDatasets(base: CoreContext, input: { env: string; service?: string | undefined; project?: string | undefined }): Promise<{ service: string; name: string; template: string | null }[]> {
  const env = findEnv(readState(base.paths), input.env, input.project);
  // The datasets are in the shared engine of the environment's own engine (a host's, for one on a host).
  const ctx = await atSite(base, env);
  const { model, specs } = await specsOf(ctx, env);
  return resetDatasets(ctx, { env, model, specs, service: input.service });
}

export async function listEnvironmentDatasets(ctx: CoreContext, input: { env?: string | undefined; project?: string | undefined }): Promise<DatasetView[]> {
  const env = input.env === undefined ? undefined : findEnv(readState(ctx.paths), input.env, input.project).name;
  return listDatasets(ctx, { env, project: input.project });
}
