import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cookieValue, hostAllowed, originAllowed, sameSecret, sessionCookie } from './guard.js';

test('Host must be the loopback address (or localhost) with the server port', () => {
  assert.equal(hostAllowed('127.0.0.1:4000', 4000), true);
  assert.equal(hostAllowed('localhost:4000', 4000), true);
  assert.equal(hostAllowed('127.0.0.1:4001', 4000), false);
  assert.equal(hostAllowed('127.0.0.1', 4000), false);
  assert.equal(hostAllowed('evil.example:4000', 4000), false, 'a rebound DNS name');
  assert.equal(hostAllowed(undefined, 4000), false);
});

test("a POST's Origin must be this server", () => {
  assert.equal(originAllowed('http://127.0.0.1:4000', 4000), true);
  assert.equal(originAllowed('http://evil.example', 4000), false);
  assert.equal(originAllowed('http://127.0.0.1:4001', 4000), false);
  assert.equal(originAllowed('null', 4000), false);
  assert.equal(originAllowed(undefined, 4000), false);
});

test('the session cookie is HttpOnly and SameSite=Strict, and read back by name', () => {
  assert.match(sessionCookie(4000, 'abc'), /^cilo_ui_4000=abc; HttpOnly; SameSite=Strict; Path=\/$/);
  assert.equal(cookieValue('a=1; cilo_ui_4000=abc; b=2', 'cilo_ui_4000'), 'abc');
  assert.equal(cookieValue('cilo_ui_4001=abc', 'cilo_ui_4000'), undefined);
  assert.equal(sameSecret('abc', 'abc'), true);
  assert.equal(sameSecret('abd', 'abc'), false);
  assert.equal(sameSecret(undefined, 'abc'), false);
});
