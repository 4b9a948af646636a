// Bundles the CLI into dist/ with esbuild: one small entry plus lazily loaded chunks, so
// `cilo --version` does not pay for the code of every command (see STYLE.md, startup).
import { build } from 'esbuild';
import { readFileSync, rmSync, chmodSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cilo: 'src/cli.ts', lib: 'src/lib.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __CILO_VERSION__: JSON.stringify(pkg.version) },
  // Some bundled CommonJS deps call require() for Node built-ins.
  banner: { js: "import { createRequire as __ciloCreateRequire } from 'node:module'; const require = __ciloCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
const entry = new URL('../dist/cilo.js', import.meta.url);
const text = readFileSync(entry, 'utf8');
import('node:fs').then(({ writeFileSync }) => {
  // `node --`: Node 20 would otherwise take a script argument named --env-file as its own
  // option (nodejs/node#54232), and `cilo setup --env-file F` passes exactly that.
  writeFileSync(entry, `#!/usr/bin/env -S node --\n${text}`);
  chmodSync(entry, 0o755);
});
