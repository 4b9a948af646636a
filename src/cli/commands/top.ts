import { formatIdlePause } from '../../domain/idle.js';
import { topSnapshot, UsageSampler, type TopSnapshot } from '../../core/environments/top.js';
import type { Usage } from '../../domain/usage.js';
import { cliContext } from '../output/context.js';
import { out, printJson, table } from '../output/print.js';
import { formatSize } from '../output/size.js';

interface Options {
  all?: boolean;
  project?: string;
  json?: boolean;
  once?: boolean;
  /** Seconds between refreshes of the live view. */
  interval?: number;
}

/** One snapshot (`--once`, `--json`, or stdout not a terminal), else a view refreshed until Ctrl-C. */
export default async function top(opts: Options): Promise<void> {
  const ctx = cliContext();
  const input = { all: opts.all, project: opts.project };
  const live = !opts.once && !opts.json && process.stdout.isTTY === true;
  const sampler = new UsageSampler();
  if (!live) {
    const snap = await topSnapshot(ctx, input, sampler);
    if (opts.json) printJson(snap);
    else out(render(snap));
    return;
  }
  const everyMs = Math.max(1, opts.interval ?? 2) * 1000;
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  try {
    while (!stop) {
      const snap = await topSnapshot(ctx, input, sampler);
      // Home, clear the screen, then the table: one frame per refresh.
      process.stdout.write(`\x1b[H\x1b[2J${render(snap)}\n\n(refreshing every ${everyMs / 1000} s; Ctrl-C to stop)\n`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

function columns(u: Usage): string[] {
  return [`${u.cpu_percent.toFixed(1)}%`, formatSize(u.memory_bytes, 'bytes'), `${formatSize(u.block_read_bytes, 'bytes')} / ${formatSize(u.block_write_bytes, 'bytes')}`, `${formatSize(u.net_rx_bytes, 'bytes')} / ${formatSize(u.net_tx_bytes, 'bytes')}`];
}

/** Idle time to the minute once it is a minute (`12m`, `1h5m`), to the second below. */
function formatIdle(seconds: number): string {
  return seconds < 60 ? `${seconds}s` : formatIdlePause(seconds - (seconds % 60));
}

function render(s: TopSnapshot): string {
  if (s.environments.length === 0 && s.shared.length === 0) return 'No environments. Create one with `cilo up <env>` in your project (or see every project with `cilo top --all`).';
  const rows: string[][] = [
    ...s.environments.map((e) => [e.name, e.project, e.paused_by === 'idle' ? 'paused (idle)' : e.status, e.idle_seconds === null ? '-' : formatIdle(e.idle_seconds), String(e.containers), ...columns(e.usage), e.shared.length > 0 ? `uses ${e.shared.join(', ')}` : '']),
    ...s.shared.map((x) => [`${x.service} (shared)`, x.project, x.state, '-', '1', ...columns(x.usage), x.users.length > 0 ? `used by ${x.users.join(', ')}` : 'no users (grace)']),
    ['TOTAL', '', '', '', String(s.environments.reduce((n, e) => n + e.containers, 0) + s.shared.filter((x) => x.state === 'running' || x.state === 'paused').length), ...columns(s.total), ''],
  ];
  const lines = [table(['NAME', 'PROJECT', 'STATE', 'IDLE', 'CONTAINERS', 'CPU', 'MEMORY', 'BLOCK I/O', 'NET I/O', 'SHARED'], rows)];
  for (const u of s.unreachable) lines.push(`${u.site}: ${u.problem}`);
  return lines.join('\n');
}
