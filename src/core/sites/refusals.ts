/** What a remote host refuses (Site.refuse), said without a connection to it. */
import { CiloError } from '../../errors.js';
import type { SiteRefusal } from './site.js';

export function remoteRefusal(host: string, what: SiteRefusal): CiloError {
  if (what.kind === 'snapshot') {
    const env = what.env.name;
    return new CiloError('REMOTE_UNSUPPORTED', `Environment ${env} runs on host ${host}, and snapshots are kept on this machine, away from its volumes and datasets, so cilo cannot ${what.action}.`, {
      hint: `To keep a copy of it, fork it (\`cilo fork ${env} <new>\` copies it on ${host}); or run cilo on ${host} itself.`,
    });
  }
  const { env, services } = what;
  return new CiloError('SHARED_UNSUPPORTED', `Shared service ${services.join(', ')} of environment "${env}" bind-mounts files, which a shared container on a remote host cannot have (only workspaces are synced there).`, {
    hint: `Give the environment its own copy: \`cilo up ${env} ${services.map((s) => `--isolate ${s}`).join(' ')}\`, or use named volumes.`,
    exitCode: 2,
  });
}
