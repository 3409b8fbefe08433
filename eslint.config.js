// ESLint: typed rules for async safety (no floating promises in processing loops) and layer hygiene.
// Import cycles are checked by dpdm (npm run lint), whose install needs no native binary.
import tseslint from 'typescript-eslint'

const viaTransportInterfaces = {
  group: ['**/transport/kafka/**', '**/transport/memory/**', '@platformatic/kafka'],
  message: 'Use the transport interfaces (src/transport/index.ts).',
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.kafka/**',
      'bin/**',
      'eslint.config.js',
      'docs/api/**',
      '.snippets/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Layering: the user-facing layers never reach the Kafka client directly (DESIGN.md).
    files: ['src/streams/**', 'src/runtime/**', 'src/state/**', 'src/windows/**', 'src/cli/**', 'src/web/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [viaTransportInterfaces] }],
    },
  },
  {
    // Data flows one way: the DSL compiles to runtime types, and the runtime never sees the DSL.
    files: ['src/runtime/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            viaTransportInterfaces,
            { group: ['**/streams/**'], message: 'The runtime never imports the DSL (DESIGN.md).' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
)
