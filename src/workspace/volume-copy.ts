/**
 * Copies the contents of Docker volumes (fork, snapshots) the fastest way this machine allows:
 *
 * - `reflink`: both trees are directories cilo can reach on one file system that clones files
 *   (XFS, btrfs): `cp -a --reflink=always`, a metadata-only copy (a 2.1 GB postgres data
 *   directory in 0.16 s on XFS).
 * - `copy`: reachable but no clones (ext4): `cp -a`, which keeps owners, modes, symlinks, hard
 *   links and holes, as fast as the disk allows (the measured 8.7 s for 2.1 GB).
 * - `container`: cilo cannot reach a volume's directory (not root, a remote or desktop engine,
 *   a volume of another driver): the same `cp -a` in a throwaway container of an image the
 *   engine already has, with both trees mounted.
 *
 * `CILO_VOLUME_COPY=container` forces the last one (tests, or a user who wants no direct access).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VolumeInspect } from '../domain/engine.js';
import { CiloError } from '../errors.js';
import { probeClone } from './copy.js';

export type VolumeCopyMethod = 'reflink' | 'copy' | 'container';
export type DataTree = { volume: string } | { dir: string };

/** What the helper-container path needs of the Engine. */
export interface HelperEngine {
  inspectVolume(name: string): Promise<VolumeInspect | null>;
  createContainer(name: string, spec: Record<string, unknown>): Promise<string>;
  startContainer(id: string): Promise<void>;
  waitContainer(id: string, timeoutMs?: number): Promise<number>;
  containerLogs(id: string, tail?: number): Promise<string>;
  removeContainer(id: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
}

export interface VolumeDataOptions {
  /** `container` forces the helper container. */
  force?: string | undefined;
  /** The engine runs on this machine (DOCKER_HOST unset or a unix socket). */
  localEngine?: boolean | undefined;
}

function describe(t: DataTree): string {
  return 'volume' in t ? `volume ${t.volume}` : t.dir;
}

function isLocalEngine(): boolean {
  const host = process.env.DOCKER_HOST;
  return host === undefined || host === '' || host.startsWith('unix://');
}

export class VolumeDataCopier {
  /** Clone support by pair of devices, probed once per pair. */
  private readonly clones = new Map<string, Promise<boolean>>();
  private readonly local: boolean;

  constructor(
    private readonly engine: HelperEngine,
    private readonly opts: VolumeDataOptions = { force: process.env.CILO_VOLUME_COPY },
  ) {
    this.local = opts.localEngine ?? isLocalEngine();
  }

  /**
   * The directory of a tree on this machine, or undefined when cilo cannot use it directly. A
   * volume's directory is used only by root (only root keeps other users' owners in a copy) and
   * only for the local driver without a `device` (that one is a mount made while in use).
   */
  private async pathOf(t: DataTree): Promise<string | undefined> {
    if ('dir' in t) return t.dir;
    if (this.opts.force === 'container' || !this.local || process.getuid?.() !== 0) return undefined;
    const v = await this.engine.inspectVolume(t.volume);
    if (!v) throw new CiloError('DOCKER_API', `Volume ${t.volume} does not exist.`, { hint: 'Run `cilo doctor` to see what is missing.' });
    if (v.Driver !== 'local' || v.Options?.device) return undefined;
    try {
      accessSync(v.Mountpoint, constants.R_OK | constants.W_OK);
      return v.Mountpoint;
    } catch {
      return undefined; // a desktop engine's volumes live in its VM
    }
  }

  private clonesBetween(from: string, to: string): Promise<boolean> {
    const a = statSync(from).dev;
    const b = statSync(to).dev;
    if (a !== b) return Promise.resolve(false);
    const key = String(a);
    let p = this.clones.get(key);
    if (!p) {
      // Probed in the destination (empty, ours), never in a live source.
      p = probeClone(to).catch(() => false);
      this.clones.set(key, p);
    }
    return p;
  }

  async copy(from: DataTree, to: DataTree, opts: { image: string }): Promise<{ method: VolumeCopyMethod }> {
    const [src, dst] = await Promise.all([this.pathOf(from), this.pathOf(to)]);
    if (src === undefined || dst === undefined) {
      await this.inContainer(opts.image, from, to, 'cp -a /from/. /to/', `Copying ${describe(from)} to ${describe(to)}`);
      return { method: 'container' };
    }
    const reflink = await this.clonesBetween(src, dst);
    await runCp([...(reflink ? ['--reflink=always'] : []), `${src}/.`, `${dst}/`], `Copying ${describe(from)} to ${describe(to)}`);
    return { method: reflink ? 'reflink' : 'copy' };
  }

  async empty(tree: DataTree, opts: { image: string }): Promise<void> {
    const dir = await this.pathOf(tree);
    if (dir === undefined) {
      await this.inContainer(opts.image, undefined, tree, 'find /to -mindepth 1 -maxdepth 1 -exec rm -rf {} +', `Emptying ${describe(tree)}`);
      return;
    }
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
  }

  /** Runs `script` as root in a throwaway container with `from` at /from (read-only) and `to` at /to. */
  private async inContainer(image: string, from: DataTree | undefined, to: DataTree, script: string, what: string): Promise<void> {
    const mount = (t: DataTree, target: string, readOnly: boolean): Record<string, unknown> =>
      'volume' in t
        ? { Type: 'volume', Source: t.volume, Target: target, ReadOnly: readOnly, VolumeOptions: { NoCopy: true } } // never the image's files at that path
        : { Type: 'bind', Source: t.dir, Target: target, ReadOnly: readOnly };
    const name = `cilo-copy-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const id = await this.engine.createContainer(name, {
      Image: image,
      User: '0',
      Entrypoint: ['sh', '-c', script],
      Cmd: [],
      Labels: { cilo: 'true', 'cilo.helper': 'volume-copy' },
      HostConfig: { NetworkMode: 'none', Mounts: [...(from ? [mount(from, '/from', true)] : []), mount(to, '/to', false)] },
    });
    try {
      await this.engine.startContainer(id);
      const code = await this.engine.waitContainer(id);
      if (code !== 0) {
        const logs = (await this.engine.containerLogs(id, 5).catch(() => '')).trim();
        throw new CiloError('FS', `${what} failed in a helper container of ${image} (exit ${code})${logs ? `: ${logs.split('\n').join(' ')}` : ''}.`, {
          hint: 'Check the engine has disk space, and that the image has a shell with cp (sh -c "cp -a").',
        });
      }
    } finally {
      await this.engine.removeContainer(id, { force: true }).catch(() => undefined);
    }
  }
}

function runCp(args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString('utf8')).slice(-2000);
    });
    child.on('error', (e) => reject(new CiloError('FS', `${what} failed: cp could not start (${e.message}).`, { hint: 'Install GNU coreutils cp.' })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new CiloError('FS', `${what} failed (cp -a ${args.join(' ')}, exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`, { hint: 'Check the disk space of the Docker data root and CILO_HOME.' }));
    });
  });
}
