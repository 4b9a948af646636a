import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateHostRange, engineRanges, keysToTrust, userKnownVerdict, formatSshDestination, knownHostsName, parseSshDestination, rebaseBindMounts, subnetBases, tunnelAddresses, tunnelInterface, tunnelSubnet } from './hosts.js';
import type { EnvironmentState, HostState, State } from './state.js';
import { CiloError } from '../errors.js';

test('SSH destinations: ssh:// URLs and user@host, with ports; anything else is a usage error', () => {
  assert.deepEqual(parseSshDestination('ssh://me@box.example'), { user: 'me', host: 'box.example', port: 22 });
  assert.deepEqual(parseSshDestination('me@10.0.0.5:2222'), { user: 'me', host: '10.0.0.5', port: 2222 });
  assert.deepEqual(parseSshDestination('ssh://box'), { user: undefined, host: 'box', port: 22 });
  assert.equal(formatSshDestination(parseSshDestination('me@box:2222')), 'ssh://me@box:2222');
  assert.equal(formatSshDestination(parseSshDestination('ssh://me@box:22')), 'ssh://me@box');
  assert.equal(knownHostsName(parseSshDestination('me@box:2222')), '[box]:2222');
  assert.equal(knownHostsName(parseSshDestination('me@box')), 'box');
  for (const bad of ['tcp://box:2375', 'me@', 'ssh://me@box:99999', 'a b']) {
    assert.throws(() => parseSshDestination(bad), (e: unknown) => e instanceof CiloError && e.code === 'HOST_INVALID' && e.exitCode === 2, bad);
  }
});

test("a host's range is the lowest free /18 of cilo's host space", () => {
  assert.equal(allocateHostRange(['10.224.0.0/16']), '10.225.0.0/18');
  assert.equal(allocateHostRange(['10.224.0.0/16', '10.225.0.0/18']), '10.225.64.0/18');
  // a route or network anywhere inside a candidate makes it taken
  assert.equal(allocateHostRange(['10.225.3.0/24']), '10.225.64.0/18');
  assert.equal(allocateHostRange(['10.225.0.0/16']), '10.226.0.0/18');
});

test('the tunnel takes the last /24 of the range: .1 here, .2 on the host; its interface is named by the range', () => {
  assert.equal(tunnelSubnet('10.225.64.0/18'), '10.225.127.0/24');
  assert.deepEqual(tunnelAddresses('10.225.64.0/18'), { local: '10.225.127.1', remote: '10.225.127.2' });
  assert.equal(tunnelInterface('10.225.64.0/18'), 'cilo-225-64');
  assert.ok(tunnelInterface('10.231.192.0/18').length <= 15);
});

const host: HostState = { name: 'box', ssh: 'ssh://me@box', remote_socket: '/var/run/docker.sock', remote_root: '/home/me/.cilo-remote/abc', engine_id: 'X', subnet: '10.225.0.0/18', transport: 'ssh', added_at: '' };

function env(name: string, subnet: string, hostName?: string): EnvironmentState {
  return { name, project: 'p', source: '/s', workspace: `/w/${name}`, subnet, dns_suffix: '.test', status: 'running', created_at: '', updated_at: '', services: {}, ingress: null, hostnames: [], shared: [], ...(hostName ? { host: hostName } : {}) };
}

const state: State = { version: 3, base_subnets: ['10.224.0.0/16'], dns_port: 5354, environments: { a: env('a', '10.224.0.0/24'), b: env('b', '10.225.0.0/24', 'box') }, shared_services: {}, hosts: { box: host } };

test('an environment takes its subnet from its host range (less the tunnel /24), else from the base ranges', () => {
  assert.deepEqual(subnetBases(state, {}), { bases: ['10.224.0.0/16'], reserved: [] });
  assert.deepEqual(subnetBases(state, { host: 'box' }), { bases: ['10.225.0.0/18'], reserved: ['10.225.63.0/24'] });
  assert.throws(() => subnetBases(state, { host: 'nope' }), (e: unknown) => e instanceof CiloError && e.code === 'HOST_NOT_FOUND');
  assert.deepEqual(engineRanges(state), ['10.224.0.0/16', '10.225.0.0/18']);
});

test('bind mounts under the workspace point at its copy on the host; other sources and volumes stay', () => {
  const model = {
    services: {
      api: {
        image: 'x',
        volumes: [
          { type: 'bind', source: '/w/a/www', target: '/www' },
          { type: 'bind', source: '/w/a', target: '/src' },
          { type: 'bind', source: '/w/ab/other', target: '/o' },
          { type: 'bind', source: '/etc/hosts', target: '/h' },
          { type: 'volume', source: 'data', target: '/data' },
        ],
      },
      db: { image: 'y' },
    },
  };
  const out = rebaseBindMounts(model, '/w/a', '/remote/p/a');
  assert.deepEqual(
    (out.services.api?.volumes as { source: string }[]).map((v) => v.source),
    ['/remote/p/a/www', '/remote/p/a', '/w/ab/other', '/etc/hosts', 'data'],
  );
  assert.deepEqual(out.services.db, { image: 'y' });
  assert.equal((model.services.api.volumes[0] as { source: string }).source, '/w/a/www', 'the input is not changed');
});

test('host keys: shown and refused without a fingerprint, only the named one trusted, all once confirmed', () => {
  const keys = [
    { line: 'box ssh-ed25519 AAA', fingerprint: 'SHA256:ed', type: 'ED25519' },
    { line: 'box ssh-rsa BBB', fingerprint: 'SHA256:rsa', type: 'RSA' },
  ];
  assert.throws(() => keysToTrust('ssh://box', keys, undefined), (e: unknown) => e instanceof CiloError && e.code === 'HOST_KEY_UNKNOWN' && e.message.includes('ED25519 SHA256:ed, RSA SHA256:rsa') && (e.hint ?? '').includes('--accept-host-key SHA256:ed'));
  assert.deepEqual(keysToTrust('ssh://box', keys, 'SHA256:rsa'), ['box ssh-rsa BBB']);
  assert.deepEqual(keysToTrust('ssh://box', keys, 'ed'), ['box ssh-ed25519 AAA']);
  assert.throws(() => keysToTrust('ssh://box', keys, 'SHA256:other'), /offers .* not SHA256:other/);
  assert.deepEqual(keysToTrust('ssh://box', keys, 'all'), ['box ssh-ed25519 AAA', 'box ssh-rsa BBB']);
  assert.throws(() => keysToTrust('ssh://box', [], 'all'), (e: unknown) => e instanceof CiloError && e.code === 'HOST_UNREACHABLE');
});

test("the user's own known_hosts: a listed key is trusted, another key for the host is a mismatch, none is none", () => {
  const keys = [
    { line: 'box ssh-ed25519 AAA', fingerprint: 'SHA256:ed', type: 'ED25519' },
    { line: 'box ssh-rsa BBB', fingerprint: 'SHA256:rsa', type: 'RSA' },
  ];
  const file = '/home/me/.ssh/known_hosts';
  assert.deepEqual(userKnownVerdict(keys, []), { kind: 'none' });
  // hashed names (as ssh-keygen -F prints them) and plain ones alike: only the key is compared
  assert.deepEqual(userKnownVerdict(keys, [{ file, lines: ['|1|c2FsdA==|aGFzaA== ssh-rsa BBB'] }]), { kind: 'match', file, lines: ['box ssh-rsa BBB'] });
  assert.deepEqual(userKnownVerdict(keys, [{ file, lines: ['box ssh-ed25519 OTHER'] }]), { kind: 'mismatch', file });
  // ssh accepts a key listed in any of its files, as here
  const second = '/home/me/.ssh/known_hosts2';
  assert.deepEqual(userKnownVerdict(keys, [{ file, lines: ['box ssh-ed25519 OTHER'] }, { file: second, lines: ['box ssh-ed25519 AAA'] }]), { kind: 'match', file: second, lines: ['box ssh-ed25519 AAA'] });
  // a revoked key is refused wherever it is listed; certificate authorities are not plain keys
  assert.deepEqual(userKnownVerdict(keys, [{ file, lines: ['@revoked box ssh-ed25519 AAA'] }, { file: second, lines: ['box ssh-ed25519 AAA'] }]), { kind: 'mismatch', file });
  assert.deepEqual(userKnownVerdict(keys, [{ file, lines: ['@cert-authority *.example ssh-ed25519 CA'] }]), { kind: 'none' });
});
