declare const __CILO_VERSION__: string;

// A reader that goes away (`cilo list --json | head`) must neither crash cilo with a stack
// trace nor cut a command short: the rest of the output is dropped, the work goes on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

const argv = process.argv.slice(2);
// `cilo --version` answers before the command table is even loaded (STYLE.md: it should cost
// little more than `node -e 0`).
const run =
  argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')
    ? Promise.resolve(process.stdout.write(`${typeof __CILO_VERSION__ === 'string' ? __CILO_VERSION__ : '0.0.0-dev'}\n`)).then(() => 0)
    : import('./cli/main.js').then((m) => m.main(argv));
run.then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`cilo: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
