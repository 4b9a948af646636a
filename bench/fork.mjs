// Benchmarks of fork (issue #17), run by bench/run.mjs with its helpers (`tools`), once each:
//
//   fork          `cilo fork` of an environment whose named volume holds 1 GB, vs `cp -a` of the
//                 same volume directory on the same file system (Docker's data root), and how
//                 long the source's containers were frozen
//   fork-reflink  the volume copy step itself (the copier fork uses) on a 1 GB tree on a small XFS
//                 file system made on a loop device, vs `cp -a --reflink=always` there; skipped
//                 with its reason where one cannot be made (not root, no mkfs.xfs)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const APP = 'cilo-fixture/busybox:1';
const GB_SCRIPT = 'for i in $(seq 1 16); do head -c 67108864 /dev/urandom > "$0/f$i"; done; mkdir -p "$0/small"; for i in $(seq 1 2000); do echo "$i" > "$0/small/$i"; done';

const composeYaml = () => `services:
  web:
    image: ${APP}
    init: true
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;

export async function benchFork(tools) {
  const { makeHome, withCleanup, must, row, log, fmtMs } = tools;
  const h = await makeHome('fork');
  return withCleanup(h.cleanup, async () => {
    const dir = join(h.dir, 'proj');
    mkdirSync(dir);
    spawnSync('sh', ['-c', `cat > '${join(dir, 'compose.yaml')}'`], { input: composeYaml() });
    await h.init();
    await h.cilo(['up', 'src', '--from', dir, '--project', h.project]);
    const volume = `cilo-${h.project}-src_data`;
    const web = spawnSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=cilo-${h.project}-src`], { encoding: 'utf8' }).stdout.trim();
    await must('docker', ['exec', web, 'sh', '-c', GB_SCRIPT, '/data']);
    const mountpoint = spawnSync('docker', ['volume', 'inspect', '-f', '{{.Mountpoint}}', volume], { encoding: 'utf8' }).stdout.trim();
    const cpDst = `${mountpoint}-benchcp`; // beside the volume: same file system
    spawnSync('sync');
    try {
      const cp = await must('cp', ['-a', mountpoint, cpDst]);
      spawnSync('sync');
      const fork = await h.cilo(['fork', 'src', 'copy', '--json']);
      const j = JSON.parse(fork.stdout);
      log(`fork: cilo fork ${fmtMs(fork.ms)} (volume ${j.method} ${fmtMs(j.volumes[0]?.ms ?? 0)}, source frozen ${fmtMs(j.frozen_ms)}), cp -a ${fmtMs(cp.ms)}`);
      return [
        row({ id: 'fork', measure: '`cilo fork` of an environment with a 1 GB volume', ours: [fork.ms], baseLabel: '`cp -a` of the volume directory', base: [cp.ms], target: { ratio: 1.1 }, note: `volume copied by ${j.method} in ${fmtMs(j.volumes[0]?.ms ?? 0)}` }),
        row({ id: 'fork-frozen', measure: 'how long the source was frozen (docker pause) during that fork', ours: [j.frozen_ms], baseLabel: '`cp -a` of the volume directory', base: [cp.ms], target: { ratio: 1.1 } }),
      ];
    } finally {
      rmSync(cpDst, { recursive: true, force: true });
    }
  });
}

/** A 1.5 GB XFS file system with reflink on a loop device, or the reason there cannot be one. */
function makeXfs(base) {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('sh', ['-c', 'command -v mkfs.xfs']).status !== 0) return 'mkfs.xfs is not installed (apt-get install xfsprogs)';
  const image = join(base, 'xfs.img');
  const mount = join(base, 'xfs');
  mkdirSync(mount);
  for (const [cmd, args] of [['truncate', ['-s', '1536M', image]], ['mkfs.xfs', ['-q', '-m', 'reflink=1', image]], ['mount', ['-o', 'loop', image, mount]]]) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) return `${cmd} failed: ${r.stderr.trim()}`;
  }
  return mount;
}

export async function benchForkReflink(tools) {
  const { withCleanup, must, row, log, fmtMs } = tools;
  const base = mkdtempSync('/var/tmp/cilo-bench-xfs-');
  const cleanup = async () => {
    spawnSync('umount', [join(base, 'xfs')]);
    rmSync(base, { recursive: true, force: true });
  };
  return withCleanup(cleanup, async () => {
    const mount = makeXfs(base);
    if (!mount.startsWith('/')) throw new Error(`skipped: ${mount}`);
    const src = join(mount, 'src');
    mkdirSync(src);
    await must('sh', ['-c', GB_SCRIPT, src]);
    spawnSync('sync');
    const { VolumeDataCopier } = await tsImport('../src/workspace/volume-copy.ts', import.meta.url);
    const copier = new VolumeDataCopier({}, {});
    const ours = join(mount, 'ours');
    mkdirSync(ours);
    const t0 = performance.now();
    const r = await copier.copy({ dir: src }, { dir: ours }, { image: 'unused' });
    const oursMs = performance.now() - t0;
    const cp = await must('cp', ['-a', '--reflink=always', src, join(mount, 'cp')]);
    log(`fork-reflink: copier ${r.method} ${fmtMs(oursMs)}, cp -a --reflink=always ${fmtMs(cp.ms)}`);
    return [row({ id: 'fork-reflink', measure: 'volume copy step of a fork, 1 GB on XFS (reflink)', ours: [oursMs], baseLabel: '`cp -a --reflink=always`', base: [cp.ms], target: { max: 1000 }, note: `method ${r.method}; XFS on a loop device (Docker's data root here is ext4)` })];
  });
}
