import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`cilo: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
