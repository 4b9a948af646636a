// Preloaded into a cilo process by bench/profile-up.mjs (node --import): appends one line per
// Engine API request and per child process, with start offset and duration, to the file named by
// CILO_BENCH_TRACE. Only for profiling; cilo itself knows nothing of it.
import { appendFileSync } from 'node:fs';
import childProcess from 'node:child_process';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';

const file = process.env.CILO_BENCH_TRACE;
if (file) {
  delete process.env.CILO_BENCH_TRACE; // not inherited by the DNS server or other children
  const t0 = performance.now() - process.uptime() * 1000; // process start
  const rel = () => (performance.now() - t0) / 1000;
  const emit = (start, what) => appendFileSync(file, `${start.toFixed(3)} ${(rel() - start).toFixed(3)} ${what}\n`);
  appendFileSync(file, `${rel().toFixed(3)} 0 preload done (node started)\n`);

  const request = http.request;
  http.request = function tracedRequest(opts, cb) {
    const start = rel();
    const req = request.call(this, opts, cb);
    const what = `api ${opts?.method ?? 'GET'} ${String(opts?.path ?? '').replace(/\?.*/, '')}`;
    req.once('response', (res) => res.once('end', () => emit(start, what)));
    req.once('error', () => emit(start, `${what} (error)`));
    return req;
  };
  const spawn = childProcess.spawn;
  childProcess.spawn = function tracedSpawn(cmd, args, opts) {
    const start = rel();
    const child = spawn.call(this, cmd, args, opts);
    const what = `spawn ${cmd} ${(Array.isArray(args) ? args : []).filter((a) => !String(a).includes('/')).join(' ')}`;
    child.once('exit', () => emit(start, what));
    return child;
  };
  syncBuiltinESMExports();
  process.once('exit', () => appendFileSync(file, `${rel().toFixed(3)} 0 exit\n`));
}
