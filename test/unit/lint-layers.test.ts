// The layering rule (eslint-rules/layers.js) run through ESLint with the project's own config
// on made-up files: what it must refuse, at any depth and through import(), and what it must let
// through. The files need not exist; ESLint places them by `filePath`.
import { strict as assert } from 'node:assert';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const eslint = new ESLint({ cwd: root, overrideConfigFile: join(root, 'eslint.config.js') });

/** The layer rule's messages for `code` as if it were the file `file` (relative to the repository). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  assert.ok(result, 'ESLint returned no result');
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'the snippet does not parse');
  return result.messages.filter((m) => m.ruleId === 'cilo/layers').map((m) => m.message);
}

describe('lint: layers', () => {
  test('core importing the CLI two folders down is refused', async () => {
    const errors = await layerErrors('src/core/shared/x.ts', "import { main } from '../../cli/main.js';\nexport const m = main;\n");
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /core\/ may not import src\/cli\/main/);
  });

  test('a dynamic import() from core is checked like a static one', async () => {
    const errors = await layerErrors('src/core/environments/x.ts', "export const load = () => import('../../cli/main.js');\n");
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /core\/ may not import src\/cli\/main/);
  });

  test('a command reading state itself is refused', async () => {
    const errors = await layerErrors('src/cli/commands/x.ts', "import { readState } from '../../state/store.js';\nexport const r = readState;\n");
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /cli\/ file may not call src\/state/);
  });

  test('export from, export * from and a re-export of a value are checked too', async () => {
    const errors = await layerErrors('src/cli/commands/x.ts', "export { startDaemon } from '../../dns/daemon.js';\nexport * from '../../ui/open.js';\n");
    assert.equal(errors.length, 2);
  });

  test('an import() of a computed path is refused in src/', async () => {
    const errors = await layerErrors('src/core/x.ts', 'export const load = (name: string) => import(`../${name}.js`);\n');
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /string literal/);
  });

  test('sockets and processes in core, and file I/O in domain, are refused, dynamic ones too', async () => {
    assert.equal((await layerErrors('src/core/hosts/x.ts', "export const cp = () => import('node:child_process');\n")).length, 1);
    assert.equal((await layerErrors('src/domain/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).length, 1);
  });

  test('adapters may not import core, at any depth', async () => {
    const errors = await layerErrors('src/dns/deep/x.ts', "import type { CoreContext } from '../../core/context.js';\nexport type C = CoreContext;\n");
    assert.equal(errors.length, 1);
  });

  test('allowed: core naming an adapter type, calling state; cli calling core and naming adapter types', async () => {
    assert.deepEqual(
      await layerErrors(
        'src/core/shared/x.ts',
        "import type { DockerClient } from '../../docker/client.js';\nimport { readState } from '../../state/store.js';\nimport { findEnv } from '../environments/lookup.js';\nexport type D = DockerClient;\nexport const r = [readState, findEnv];\n",
      ),
      [],
    );
    assert.deepEqual(
      await layerErrors(
        'src/cli/commands/x.ts',
        "import { upEnvironment } from '../../core/environments/up.js';\nimport type { DnsStatus } from '../../dns/daemon.js';\nimport { usageError } from '../../errors.js';\nimport { out } from '../output/print.js';\nexport type S = DnsStatus;\nexport const u = [upEnvironment, usageError, out, () => import('../../core/environments/down.js')];\n",
      ),
      [],
    );
  });

  test('only the CLI context builders import the composition root', async () => {
    const code = "import { defaultContext } from '../../default-context.js';\nexport const d = defaultContext;\n";
    assert.deepEqual(await layerErrors('src/cli/output/context.ts', code), []);
    assert.equal((await layerErrors('src/cli/commands/x.ts', code)).length, 1);
  });
});
