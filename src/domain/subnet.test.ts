import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateSubnet, assignIps, checkPrivateRange, dynamicRangeOf, isPrivateRange, parseCidr, formatCidr, overlaps, gatewayOf, routerAddressOf } from './subnet.js';

test('allocates the lowest free /24, skipping overlaps and reusing freed ones', () => {
  assert.equal(allocateSubnet(['10.224.0.0/16'], []), '10.224.0.0/24');
  assert.equal(allocateSubnet(['10.224.0.0/16'], ['10.224.0.0/24', '10.224.2.0/24']), '10.224.1.0/24');
  // a Docker network covering a larger block is skipped as a whole
  assert.equal(allocateSubnet(['10.224.0.0/16'], ['10.224.0.0/23']), '10.224.2.0/24');
  // unparsable entries are ignored, not fatal
  assert.equal(allocateSubnet(['10.224.0.0/16'], ['fd00::/64']), '10.224.0.0/24');
});

test('moves on to the next base range and fails clearly when all are full', () => {
  assert.equal(allocateSubnet(['10.1.0.0/24', '10.2.0.0/23'], ['10.1.0.0/24']), '10.2.0.0/24');
  assert.throws(() => allocateSubnet(['10.1.0.0/24'], ['10.1.0.0/24']), (e: Error & { code?: string }) => e.code === 'SUBNET_EXHAUSTED' && e.message.includes('10.1.0.0/24'));
});

test('parses and rejects CIDRs', () => {
  assert.equal(formatCidr(parseCidr('10.224.5.7/16')), '10.224.0.0/16');
  for (const bad of ['10.224.0.0', '10.224.0.0/33', '300.1.1.1/16', '10.0.0.0/30', 'abc']) {
    assert.throws(() => parseCidr(bad), (e: Error & { code?: string }) => e.code === 'INVALID_CIDR');
  }
  assert.equal(overlaps(parseCidr('10.0.0.0/16'), parseCidr('10.0.3.0/24')), true);
  assert.equal(overlaps(parseCidr('10.0.0.0/24'), parseCidr('10.0.1.0/24')), false);
  assert.equal(gatewayOf('10.224.3.0/24'), '10.224.3.1');
});

test('assigns stable IPs: existing kept, new ones lowest free in name order, reserved skipped', () => {
  const first = assignIps('10.224.3.0/24', {}, ['web', 'api', 'db']);
  assert.deepEqual(first, { api: '10.224.3.10', db: '10.224.3.11', web: '10.224.3.12' });
  const second = assignIps('10.224.3.0/24', { web: '10.224.3.12' }, ['web', 'cache'], ['10.224.3.10']);
  assert.deepEqual(second, { web: '10.224.3.12', cache: '10.224.3.11' });
});

test('fixed addresses stay below the range the engine assigns replicas from', () => {
  assert.equal(dynamicRangeOf('10.224.3.0/24'), '10.224.3.192/26');
  const many = Array.from({ length: 182 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  assert.equal(assignIps('10.224.3.0/24', {}, many).s181, '10.224.3.191');
  assert.throws(() => assignIps('10.224.3.0/24', {}, [...many, 'zz-one-more']), /no free address left for service "zz-one-more"/);
});

test('a range for environments must lie inside the private ranges unless forced', () => {
  for (const ok of ['10.224.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '172.31.255.0/24', '192.168.0.0/16', '192.168.10.0/24']) assert.equal(isPrivateRange(parseCidr(ok)), true, ok);
  for (const bad of ['8.8.0.0/16', '100.64.0.0/10', '172.15.0.0/16', '172.32.0.0/16', '192.169.0.0/16', '11.0.0.0/8', '192.0.0.0/8']) assert.equal(isPrivateRange(parseCidr(bad)), false, bad);
  assert.throws(() => checkPrivateRange('8.8.0.0/16', '--base-subnet', false), (e: Error & { code?: string; exitCode?: number }) => e.code === 'INVALID_CIDR' && e.exitCode === 2 && /^--base-subnet 8\.8\.0\.0\/16 lies outside the private ranges/.test(e.message));
  assert.doesNotThrow(() => checkPrivateRange('8.8.0.0/16', '--base-subnet', true));
  assert.doesNotThrow(() => checkPrivateRange('10.9.0.0/16', '--base-subnet', undefined));
});

test('the router address (.9) is never a service\'s: not assigned, and a recorded one is moved', () => {
  assert.equal(routerAddressOf('10.224.3.0/24'), '10.224.3.9');
  const many = Array.from({ length: 50 }, (_, i) => `s${i}`);
  assert.ok(!Object.values(assignIps('10.224.3.0/24', {}, many)).includes('10.224.3.9'));
  const moved = assignIps('10.224.3.0/24', { web: '10.224.3.9', api: '10.224.3.10' }, ['web', 'api']);
  assert.equal(moved.api, '10.224.3.10');
  assert.equal(moved.web, '10.224.3.11');
});
