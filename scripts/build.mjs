// Bundles the CLI into dist/ with esbuild: one small entry plus lazily loaded chunks, so
// `cilo --version` does not pay for the code of every command (see STYLE.md, startup).
import { build } from 'esbuild';
import { readFileSync, rmSync, chmodSync, renameSync, writeFileSync } from 'node:fs';

// The page of `cilo ui` (src/ui/assets.ts): plain files embedded as strings, no front-end build.
const uiAssets = Object.fromEntries(['index.html', 'app.js', 'app.css'].map((f) => [f, readFileSync(new URL(`../src/ui/assets/${f}`, import.meta.url), 'utf8')]));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Build beside dist/ and swap it in, so a CLI running from dist/ meanwhile never sees it half-written.
const out = new URL(`../dist.tmp-${process.pid}`, import.meta.url);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { cilo: 'src/cli.ts', lib: 'src/lib.ts' },
  outdir: out.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __CILO_VERSION__: JSON.stringify(pkg.version), __CILO_UI_ASSETS__: JSON.stringify(JSON.stringify(uiAssets)) },
  // Some bundled CommonJS deps call require() for Node built-ins.
  banner: { js: "import { createRequire as __ciloCreateRequire } from 'node:module'; const require = __ciloCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// dist/ says itself that it is ESM: a copy outside the package (the benchmark's snapshot, a
// vendored copy) would otherwise fail on Node without module detection, or with it be parsed
// twice, file by file, by Node's format detection (~10 ms of `cilo list`).
writeFileSync(new URL(`../dist.tmp-${process.pid}/package.json`, import.meta.url), `${JSON.stringify({ type: 'module' })}\n`);
const entry = new URL(`../dist.tmp-${process.pid}/cilo.js`, import.meta.url);
// `node --`: Node 20 would otherwise take a script argument named --env-file as its own
// option (nodejs/node#54232), and `cilo setup --env-file F` passes exactly that.
writeFileSync(entry, `#!/usr/bin/env -S node --\n${readFileSync(entry, 'utf8')}`);
chmodSync(entry, 0o755);
const dist = new URL('../dist', import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);
try {
  renameSync(dist, old);
} catch {
  // first build
}
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
