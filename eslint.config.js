// The layering of src/ (README, Development): imports flow cli -> core -> adapters -> domain.
// eslint-rules/layers.js checks every import of a file under src/, at any depth, dynamic ones
// too. An upward import fails `npm run lint`, which `npm test` (and so CI) runs first.
import tseslint from 'typescript-eslint';
import layers from './eslint-rules/layers.js';

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
    files: ['src/**/*.ts', 'src/**/*.cts'],
    plugins: { cilo: layers },
    rules: { 'cilo/layers': 'error' },
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
];
