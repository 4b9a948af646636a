// `cilo host add` over stand-ins (test/support/stand-in.ts): a failure after it started writing
// undoes every step (the key it trusted, hosts/<name>/, the record, the tunnel), and a key the
// user's own known_hosts lists is trusted without --accept-host-key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addHost } from '../../src/core/hosts/hosts.js';
import type { HostKey, HostLink } from '../../src/core/ports.js';
import type { UserKnownEntries } from '../../src/domain/hosts.js';
import type { HostState } from '../../src/domain/state.js';
import { CiloError } from '../../src/errors.js';
import { readState } from '../../src/state/store.js';
import { StandInRemote, standInContext, standInPorts, type StandIn } from '../support/stand-in.js';

const KEY: HostKey = { line: 'box ssh-ed25519 AAA', fingerprint: 'SHA256:ed', type: 'ED25519' };

/** A host that answers, with cilo's known_hosts and the user's in memory; records what add made and undid. */
class HostBeingAdded extends StandInRemote {
  known: string[] = [];
  user: UserKnownEntries[] = [];
  readonly forgotten: string[] = [];
  readonly tunnelsDown: string[] = [];
  tunnelFails = false;
  constructor() {
    super();
    this.hosts.set('box', { kind: 'answers', ports: standInPorts() });
  }
  override async scanHostKeys(): Promise<HostKey[]> {
    return [KEY];
  }
  override async freePort(): Promise<number> {
    return 41000;
  }
  override async isKnown(): Promise<boolean> {
    return this.known.length > 0;
  }
  override async userKnownEntries(): Promise<UserKnownEntries[]> {
    return this.user;
  }
  override async trustHostKeys(lines: string[]): Promise<string[]> {
    const add = lines.filter((l) => !this.known.includes(l));
    this.known.push(...add);
    return add;
  }
  override async untrustHostKeys(lines: string[]): Promise<void> {
    this.known = this.known.filter((l) => !lines.includes(l));
  }
  override async forgetHost(h: HostLink): Promise<void> {
    this.forgotten.push(h.name);
  }
  override async run(): Promise<string> {
    return '/root\n';
  }
  override async tunnelUp(): Promise<void> {
    if (this.tunnelFails) throw new CiloError('TUNNEL_FAILED', 'wireguard-go did not start');
  }
  override async tunnelDown(h: HostState): Promise<void> {
    this.tunnelsDown.push(h.name);
  }
}

function home(t: { after: (fn: () => void) => void }): StandIn & { remote: HostBeingAdded } {
  const remote = new HostBeingAdded();
  const s = standInContext({ remote });
  t.after(s.cleanup);
  return { ...s, remote };
}

test('a tunnel that does not come up undoes the whole add: record, tunnel, files and the key it trusted', async (t) => {
  const s = home(t);
  s.remote.tunnelFails = true;
  await assert.rejects(addHost(s.ctx, { name: 'box', target: 'ssh://root@box', acceptHostKey: KEY.fingerprint, transport: 'wireguard' }), /wireguard-go did not start/);
  assert.equal(readState(s.ctx.paths).hosts, undefined, 'no record');
  assert.deepEqual(s.remote.tunnelsDown, ['box']);
  assert.deepEqual(s.remote.forgotten, ['box'], 'hosts/box/ removed');
  assert.deepEqual(s.remote.known, [], 'the key it trusted is not trusted any more');
});

test('compose missing here: nothing is left, and a key trusted before the add stays trusted', async (t) => {
  const s = home(t);
  s.remote.known = [KEY.line];
  s.local.compose.version = async () => undefined;
  await assert.rejects(addHost(s.ctx, { name: 'box', target: 'ssh://root@box' }), (e: unknown) => e instanceof CiloError && e.code === 'COMPOSE_MISSING');
  assert.equal(readState(s.ctx.paths).hosts, undefined);
  assert.deepEqual(s.remote.forgotten, ['box']);
  assert.deepEqual(s.remote.known, [KEY.line], 'not its to remove');
});

test("a key the user's known_hosts lists is trusted without --accept-host-key, naming the file; another key is refused", async (t) => {
  const s = home(t);
  s.remote.user = [{ file: '/home/me/.ssh/known_hosts', lines: ['|1|c2FsdA==|aGFzaA== ssh-ed25519 AAA'] }];
  const added = await addHost(s.ctx, { name: 'box', target: 'ssh://root@box' });
  assert.equal(added.trustedFrom, '/home/me/.ssh/known_hosts');
  assert.deepEqual(s.remote.known, [KEY.line]);

  const other = home(t);
  other.remote.user = [{ file: '/home/me/.ssh/known_hosts', lines: ['box ssh-ed25519 OTHER'] }];
  await assert.rejects(addHost(other.ctx, { name: 'box', target: 'ssh://root@box' }), (e: unknown) => e instanceof CiloError && e.code === 'HOST_KEY_UNKNOWN' && e.message.includes('/home/me/.ssh/known_hosts'));
  assert.deepEqual(other.remote.known, []);
  assert.equal(readState(other.ctx.paths).hosts, undefined);
});
