// Builds the CLI into dist/ in two steps, so that a command loads only its own code and loads it
// in few files (see STYLE.md, startup, and bench/RESULTS.md):
//  1. esbuild compiles the TypeScript and bundles it with the dependencies, split at every
//     dynamic import() (each command, each adapter a command may not need).
//  2. rollup re-groups esbuild's chunks. esbuild gives each set of entry points its own chunk,
//     not knowing that code already loaded by the importer of a dynamic import() need not be
//     loaded again: `cilo list` read 22 files, each resolved by Node's ESM loader (a realpath,
//     a package scope lookup) at about 0.1–0.2 ms of CPU each. rollup's grouping knows it:
//     16 files, half the import resolutions.
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { readFileSync, rmSync, chmodSync, renameSync, writeFileSync, existsSync } from 'node:fs';

// The page of `cilo ui` (src/ui/assets.ts): plain files embedded as strings, no front-end build.
const uiAssets = Object.fromEntries(['index.html', 'app.js', 'app.css'].map((f) => [f, readFileSync(new URL(`../src/ui/assets/${f}`, import.meta.url), 'utf8')]));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Build beside dist/ and swap it in, so a CLI running from dist/ meanwhile never sees it half-written.
const stage = new URL(`../dist.stage-${process.pid}/`, import.meta.url);
const out = new URL(`../dist.tmp-${process.pid}/`, import.meta.url);
for (const dir of [stage, out]) rmSync(dir, { recursive: true, force: true });
try {
  await build({
    entryPoints: { cilo: 'src/cli.ts', lib: 'src/lib.ts' },
    outdir: stage.pathname,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    chunkNames: '[name]-[hash]',
    define: { __CILO_VERSION__: JSON.stringify(pkg.version), __CILO_UI_ASSETS__: JSON.stringify(JSON.stringify(uiAssets)) },
    // Some bundled CommonJS deps call require() for Node built-ins.
    banner: { js: "import { createRequire as __ciloCreateRequire } from 'node:module'; const require = __ciloCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });

  // esbuild's chunks hold modules, each chunk's map names them. The state file's reader
  // (state/store.ts) and what it imports statically go in one chunk, `ground`, which nearly every
  // command loads anyway, instead of the many small ones its different importers split it into
  // once core had rooms and more lazy ports (`cilo list` read 25 files instead of 16; each file
  // costs a resolution).
  const sourcesOf = (id) => {
    try {
      return JSON.parse(readFileSync(`${id}.map`, 'utf8')).sources ?? [];
    } catch {
      return [];
    }
  };
  const isErrors = (id) => {
    const sources = sourcesOf(id);
    if (sources.length > 0) return sources.every((s) => /\/src\/errors\.ts$/.test(s));
    return /^var __commonJS = /m.test(readFileSync(id, 'utf8'));
  };
  let ground;
  const groundOf = (getModuleInfo, getModuleIds) => {
    if (ground) return ground;
    ground = new Set();
    const store = [...getModuleIds()].find((id) => sourcesOf(id).some((s) => /\/src\/state\/store\.ts$/.test(s)));
    const walk = (id) => {
      if (!id || ground.has(id) || id.startsWith('node:') || isErrors(id)) return;
      ground.add(id);
      for (const dep of getModuleInfo(id)?.importedIds ?? []) walk(dep);
    };
    walk(store);
    return ground;
  };
  const groundFloor = (id, { getModuleInfo, getModuleIds }) => {
    // errors.ts and esbuild's runtime helpers (`__commonJS`...) stay on their own, together:
    // `cilo --version` and `--help` load them, and nothing else below.
    if (isErrors(id)) return 'errors';
    return groundOf(getModuleInfo, getModuleIds).has(id) ? 'ground' : undefined;
  };
  const bundle = await rollup({
    input: { cilo: new URL('cilo.js', stage).pathname, lib: new URL('lib.js', stage).pathname },
    // Node's built-ins stay imports; everything else esbuild has bundled already.
    external: (id) => id.startsWith('node:'),
    // esbuild has shaken the tree; rollup only moves code between files.
    treeshake: false,
    plugins: [
      {
        name: 'esbuild-source-maps',
        // rollup chains esbuild's maps with its own, so dist/'s maps still point into src/.
        load(id) {
          const map = `${id}.map`;
          return existsSync(map) ? { code: readFileSync(id, 'utf8'), map: readFileSync(map, 'utf8') } : null;
        },
      },
    ],
    onwarn(warning, warn) {
      // esbuild's chunks import each other in cycles where the sources did; evaluation order is kept.
      if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
    },
  });
  await bundle.write({ dir: out.pathname, format: 'es', sourcemap: true, chunkFileNames: 'chunks/[name].js', manualChunks: groundFloor });
  await bundle.close();
} catch (e) {
  rmSync(out, { recursive: true, force: true }); // a half-written output is never swapped in, nor left beside dist/
  throw e;
} finally {
  rmSync(stage, { recursive: true, force: true });
}

// dist/ says itself that it is ESM: a copy outside the package (the benchmark's snapshot, a
// vendored copy) would otherwise fail on Node without module detection, or with it be parsed
// twice, file by file, by Node's format detection (~10 ms of `cilo list`).
writeFileSync(new URL('package.json', out), `${JSON.stringify({ type: 'module' })}\n`);
const entry = new URL('cilo.js', out);
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
