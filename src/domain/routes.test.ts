import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcRoutes } from './routes.js';

test('parses /proc/net/route, skipping the default route', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(parseProcRoutes(text), ['172.17.0.0/16', '192.0.2.0/24']);
});
