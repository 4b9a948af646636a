import { main } from './cli/main.js';
import { info } from './cli/output/print.js';

// A reader that goes away (`cilo list --json | head`) must neither crash cilo with a stack
// trace nor cut a command short: the rest of the output is dropped, the work goes on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    info(`cilo: internal error: ${String(e)}`);
    process.exitCode = 1;
  },
);
