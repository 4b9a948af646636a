// The layering of src/ (README, Development): imports flow cli -> core -> adapters -> domain.
// An upward import fails `npm run lint`, which `npm test` (and so CI) runs first.
import tseslint from 'typescript-eslint';

const ADAPTERS = ['compose', 'docker', 'dns', 'state', 'workspace', 'git', 'proc', 'config', 'host', 'ui', 'datasets', 'files'];
const SOCKETS_AND_PROCESSES = ['node:child_process', 'node:dgram', 'node:net', 'node:http', 'node:https', 'child_process', 'dgram', 'net', 'http', 'https'];

const restrict = (patterns, paths = [], message) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      paths: paths.map((name) => ({ name, message })),
      patterns,
    },
  ],
});

export default [
  { ignores: ['dist/**', 'dist.*/**', 'node_modules/**', 'bench/**', 'scripts/**', 'examples/**', 'test-output/**'] },
  {
    files: ['src/**/*.ts', 'src/**/*.cts', 'test/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Integration tests: every test and hook has its own deadline (test/support/bounded-test.ts).
    files: ['test/integration/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'node:test',
              importNames: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
              message: "Import them from '../support/bounded-test.js': each test and hook there has its own deadline (Node 20's --test-timeout bounds only a whole file).",
            },
          ],
        },
      ],
    },
  },
  {
    // domain: pure rules and plain types; no I/O, nothing from a layer above.
    files: ['src/domain/**/*.ts'],
    rules: restrict(
      [
        {
          group: ['../*', '!../errors.js'],
          message: 'domain/ imports only domain/ and errors.ts: it is the ground floor (README, Development).',
        },
      ],
      ['node:fs', 'node:fs/promises', 'fs', ...SOCKETS_AND_PROCESSES],
      'domain/ does no I/O: do it in an adapter and pass the data in.',
    ),
  },
  {
    // adapters: the outside world; they know domain/, never the use-cases or the CLI above them.
    files: ADAPTERS.map((a) => `src/${a}/**/*.{ts,cts}`),
    rules: restrict([
      {
        group: ['../core/*', '../cli/*', '../default-context.js', '../lib.js'],
        message: 'An adapter may not import core/ or cli/: imports flow cli -> core -> adapters -> domain.',
      },
    ]),
  },
  {
    // core: use-cases; the outside world only through CoreContext's ports (types may be named).
    files: ['src/core/**/*.ts'],
    rules: restrict(
      [
        {
          group: ['../cli/*', '../default-context.js', '../lib.js'],
          message: 'core/ may not import the CLI or the composition root.',
        },
        {
          group: ['compose', 'docker', 'dns', 'git', 'proc', 'workspace', 'host', 'ui'].map((a) => `../${a}/*`),
          allowTypeImports: true,
          message: 'core/ reaches Docker, compose, DNS, git, processes, workspaces and routes only through ctx (core/ports.ts).',
        },
      ],
      SOCKETS_AND_PROCESSES,
      'core/ spawns no process and opens no socket: add a port to core/ports.ts.',
    ),
  },
];
