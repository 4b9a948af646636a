// Benchmark of environments in place (issue #28), run by bench/run.mjs with its helpers (`tools`):
//
//   in-place-up   `cilo up --in-place` of a new environment of the 10,000-file project (bench/copy.mjs's
//                 tree, ~30 MiB, plus the 3-service compose project of cold-up, its web service
//                 bind-mounting the tree) against `docker compose up -d --wait` in that very tree,
//                 and against `cilo up --copy` of a new copy-mode environment of it.
//
// Each round runs the three in turn (order rotated), then removes what it made (destroy; compose
// down -v), so every `up` is of a new environment with images present. One untimed warm-up round.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cold-up project with its web service bind-mounting the tree (so edits there would be live). */
function withBindMount(yaml) {
  return yaml.replace('    expose: ["8080"]\n', '    expose: ["8080"]\n    volumes: ["./pkg0:/srv/pkg0:ro"]\n');
}

export async function benchInPlaceUp(tools, { runs }) {
  const { makeHome, withCleanup, must, run, row, log, fmtMs, buildTree, composeYaml } = tools;
  const h = await makeHome('inplace');
  const src = join(h.dir, 'src');
  const baseProject = `${h.project}-compose`;
  const compose = (args) => must('docker', ['compose', '-p', baseProject, ...args], { cwd: src });
  return withCleanup(
    async () => {
      await run('docker', ['compose', '-p', baseProject, 'down', '-v', '-t', '0'], { cwd: src, cleanup: true });
      await h.cleanup();
    },
    async () => {
      mkdirSync(src);
      buildTree(src);
      writeFileSync(join(src, 'compose.yaml'), withBindMount(composeYaml()));
      await h.init();
      const inPlace = [];
      const copy = [];
      const base = [];
      const kinds = ['in-place', 'copy', 'compose'];
      for (let r = -1; r < runs; r++) {
        const order = kinds.map((_, i) => kinds[(i + Math.max(r, 0)) % kinds.length]);
        for (const who of order) {
          if (who === 'compose') {
            const ms = (await compose(['up', '-d', '--wait'])).ms;
            await compose(['down', '-v', '-t', '0']);
            if (r >= 0) base.push(ms);
            continue;
          }
          const env = `${who === 'copy' ? 'c' : 'i'}${r + 1}`;
          const ms = (await h.cilo(['up', env, '--from', src, '--project', h.project, `--${who}`])).ms;
          await h.cilo(['destroy', env, '--force']);
          if (r >= 0) (who === 'copy' ? copy : inPlace).push(ms);
        }
        if (r >= 0) log(`in-place-up run ${r + 1}: in place ${fmtMs(inPlace.at(-1))}, copy ${fmtMs(copy.at(-1))}, compose ${fmtMs(base.at(-1))}`);
      }
      return [
        row({ id: 'in-place-up', measure: '`up --in-place` of a new environment, 10,000-file project (issue #28)', ours: inPlace, baseLabel: '`docker compose up -d --wait` in the tree', base, target: { ratio: 1.1 } }),
        row({ id: 'in-place-vs-copy', measure: 'extra: the same `up --in-place`', ours: inPlace, baseLabel: '`up --copy` of a new environment', base: copy, target: { ratio: 1.0 } }),
      ];
    },
  );
}
