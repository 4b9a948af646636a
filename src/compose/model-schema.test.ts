import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { ComposeModelSchema, firstProblem } from './model-schema.js';

test('a model as compose prints it passes, with the fields cilo does not read kept', () => {
  const printed = {
    name: 'shop',
    services: {
      web: { image: 'nginx', ports: [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }], networks: { default: null }, cap_add: ['NET_ADMIN'] },
      db: { image: 'postgres', depends_on: {}, healthcheck: { test: ['CMD', 'true'], interval: '1s' }, labels: { 'cilo.share': 'true' } },
    },
    networks: { default: { name: 'shop_default' } },
    volumes: { data: { name: 'shop_data' } },
    'x-custom': { any: 1 },
  };
  const r = v.safeParse(ComposeModelSchema, printed);
  assert.ok(r.success);
  assert.deepEqual(r.output.services.web?.cap_add, ['NET_ADMIN']);
  assert.deepEqual(r.output['x-custom'], { any: 1 });
});

test('a model without services gets an empty map; a field of the wrong type is named', () => {
  const empty = v.safeParse(ComposeModelSchema, { name: 'x' });
  assert.ok(empty.success);
  assert.deepEqual(empty.output.services, {});
  const bad = v.safeParse(ComposeModelSchema, { services: { web: { ports: [{ target: '80' }] } } });
  assert.equal(bad.success, false);
  assert.match(firstProblem(bad.issues ?? []), /^services\.web\.ports\.0\.target: /);
  const image = v.safeParse(ComposeModelSchema, { services: { web: { image: 7 } } });
  assert.equal(image.success, false);
  assert.match(firstProblem(image.issues ?? []), /^services\.web\.image: /);
});
