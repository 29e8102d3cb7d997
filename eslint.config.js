// Lint: typescript-eslint's recommended rules (no `any`), and one direction for imports:
// edges (http, graphql) → services → adapters; leaves import only leaves. The composition root
// (app, main, cli) wires everything and may import anything.
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

const elements = [
  { type: 'root', pattern: 'src/(app|main|cli|worker).ts', mode: 'file' },
  { type: 'edge', pattern: 'src/(http|graphql)', capture: ['area'] },
  { type: 'service', pattern: 'src/(media|auth|tenancy|signing|audit|jobs/tasks)', capture: ['area'] },
  { type: 'adapter', pattern: 'src/(imaging|db|storage|cache|jobs|observability|net)', capture: ['area'] },
  { type: 'leaf', pattern: 'src/(transforms|errors|config|ids|docs)', capture: ['area'] },
  { type: 'migration', pattern: 'migrations' },
];

/** `from` may import the element types in `to`. */
const rule = (from, to) => ({
  from: { element: { type: from } },
  allow: to.map((type) => ({ to: { element: { type } } })),
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      'coverage/**',
      'sdk/generated/**',
      'test/.artifacts/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'migrations/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'import/resolver': { typescript: true, node: { extensions: ['.ts', '.js'] } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message:
            '{{from.type}} must not import {{to.type}} (imports flow edges → services → adapters; leaves import only leaves)',
          policies: [
            rule('root', ['root', 'edge', 'service', 'adapter', 'leaf', 'migration']),
            rule('edge', ['edge', 'service', 'leaf']),
            // Edges name adapter types (entities, store interfaces) to shape answers…
            {
              from: { element: { type: 'edge' } },
              allow: [{ to: { element: { type: 'adapter' } }, dependency: { kind: 'type' } }],
            },
            // …and the local-disk upload form is the storage adapter's own HTTP face.
            {
              from: { element: { type: 'edge' } },
              allow: [{ to: { element: { type: 'adapter', captured: { area: 'storage' } } } }],
            },
            rule('service', ['service', 'adapter', 'leaf']),
            rule('adapter', ['adapter', 'leaf', 'migration']),
            rule('leaf', ['leaf']),
            rule('migration', ['migration']),
          ],
        },
      ],
    },
  },
);
