import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvironmentState } from './state.js';
import { expandTokens, runVariables, serviceVarPrefix, trustVariables } from './run-vars.js';

const env: EnvironmentState = {
  name: 'agent-1',
  project: 'shop',
  source: '/src/shop',
  workspace: '/home/u/.cilo/envs/shop/agent-1',
  subnet: '10.224.3.0/24',
  dns_suffix: '.test',
  status: 'running',
  created_at: '2024-01-01T00:00:00Z',
  updated_at: '2024-01-01T00:00:00Z',
  services: { web: { ip: '10.224.3.10', type: 'isolated', port: 8080 }, 'my-api': { ip: '10.224.3.11', type: 'isolated', port: 80 }, db: { ip: '10.224.3.12', type: 'shared' } },
  ingress: 'web',
  hostnames: [],
  shared: ['db'],
};

test('run variables name the environment, its base URL and every service', () => {
  assert.deepEqual(runVariables(env), {
    CILO_ENV: 'agent-1',
    CILO_PROJECT: 'shop',
    CILO_WORKSPACE: '/home/u/.cilo/envs/shop/agent-1',
    CILO_BASE_URL: 'http://shop.agent-1.test',
    CILO_DNS_SUFFIX: '.test',
    CILO_SERVICE_DB_URL: 'http://db.agent-1.test',
    CILO_SERVICE_DB_IP: '10.224.3.12',
    CILO_SERVICE_MY_API_URL: 'http://my-api.agent-1.test',
    CILO_SERVICE_MY_API_IP: '10.224.3.11',
    CILO_SERVICE_WEB_URL: 'http://web.agent-1.test:8080',
    CILO_SERVICE_WEB_IP: '10.224.3.10',
  });
});

test('service names become variable names: upper case, - and . to _', () => {
  assert.equal(serviceVarPrefix('my-api.v2'), 'CILO_SERVICE_MY_API_V2');
});

test('tokens: only the four known ones, braces required', () => {
  const ctx = { project: 'shop', env: 'e1', suffix: '.dev.local' };
  assert.equal(
    expandTokens('${CILO_PROJECT} ${CILO_ENV} ${CILO_DNS_SUFFIX} ${CILO_BASE_URL} $CILO_ENV ${CILO_OTHER} ${HOME}', ctx),
    'shop e1 .dev.local http://shop.e1.dev.local $CILO_ENV ${CILO_OTHER} ${HOME}',
  );
});

test('trustVariables: NODE_EXTRA_CA_CERTS is the CA, the bundle variables the bundle; none the user set is replaced', () => {
  const files = { caFile: '/h/ca/cilo-ca.crt', bundleFile: '/h/ca/bundle.pem' };
  assert.deepEqual(trustVariables(files, {}), {
    NODE_EXTRA_CA_CERTS: '/h/ca/cilo-ca.crt',
    SSL_CERT_FILE: '/h/ca/bundle.pem',
    REQUESTS_CA_BUNDLE: '/h/ca/bundle.pem',
    CURL_CA_BUNDLE: '/h/ca/bundle.pem',
  });
  assert.deepEqual(trustVariables(files, { SSL_CERT_FILE: '/mine.pem', NODE_EXTRA_CA_CERTS: '/x.pem', CURL_CA_BUNDLE: '' }), {
    REQUESTS_CA_BUNDLE: '/h/ca/bundle.pem',
    CURL_CA_BUNDLE: '/h/ca/bundle.pem',
  });
  assert.deepEqual(trustVariables({ caFile: '/h/ca/cilo-ca.crt' }, {}), { NODE_EXTRA_CA_CERTS: '/h/ca/cilo-ca.crt' }, 'no bundle without the system roots');
});
