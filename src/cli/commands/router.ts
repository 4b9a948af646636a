import { routerStatus } from '../../core/router/status.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printTable } from '../output/print.js';

export async function status(opts: { json?: boolean }): Promise<void> {
  const s = await routerStatus(cliContext());
  if (opts.json) {
    printJson(s);
    return;
  }
  const mode = s.mode === 'auto' ? `auto (${s.probe ? `${s.probe.mode}: ${s.probe.why}` : 'not probed yet: direct until the first up'})` : s.mode;
  out(`Mode:      ${mode}`);
  out(`Ports:     127.0.0.1:${s.http_port} (http), 127.0.0.1:${s.https_port} (https)`);
  out(`Image:     ${s.image}`);
  if (s.container) {
    const sync = s.in_sync === null ? '' : s.in_sync ? ', routes in sync' : ', routes NOT in sync (`cilo doctor --fix`)';
    out(`Container: ${s.container.name} (${s.container.state}${sync}) ${s.container.ports.join(' ')}`);
  } else out(`Container: none${s.effective === 'router' && s.routes.length > 0 ? ' (needed: `cilo doctor --fix` makes it)' : ''}`);
  out('');
  if (s.routes.length === 0) {
    out(s.effective === 'router' ? 'No routes: no environment is running.' : 'No routes: names point at container addresses (direct).');
    return;
  }
  printTable(['HOST', 'ENV', 'SERVICE', 'UPSTREAM'], s.routes.map((r) => [r.host, r.env, r.service, r.upstreams.join(' ')]));
}
