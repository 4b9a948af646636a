import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopbackForwardArgs, type SshAccess } from './ssh.js';

const access: SshAccess = { url: 'ssh://me@box', destination: { user: 'me', host: 'box', port: 22 }, knownHostsFile: '/k', controlPath: '/c', logFile: '/l' };

test('a loopback port is forwarded (and cancelled) on the master connection, 127.0.0.1 on both ends', () => {
  const fwd = loopbackForwardArgs(access, 'forward', 42000);
  assert.deepEqual(fwd.slice(-5), ['-O', 'forward', '-L', '127.0.0.1:42000:127.0.0.1:42000', 'ssh://me@box']);
  assert.ok(fwd.includes('ControlPath=/c'), 'through the existing ControlMaster');
  const cancel = loopbackForwardArgs(access, 'cancel', 42000);
  assert.deepEqual(cancel.slice(-5, -1), ['-O', 'cancel', '-L', '127.0.0.1:42000:127.0.0.1:42000']);
  assert.equal(cancel.at(-1), 'ssh://me@box');
});
