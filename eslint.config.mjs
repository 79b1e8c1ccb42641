import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const sandboxPatterns = [
  { group: ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'net', 'http'], message: 'no Node built-ins in workflow code' },
  { group: ['pg', 'dockerode', 'pino', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'], message: 'no I/O libraries in workflow code' },
  { group: ['../activities/**', '../../activities/**', '../../../activities/**', '../api/**', '../../api/**', '../../../api/**', '../store/**', '../../store/**', '../../../store/**'], allowTypeImports: true, message: 'import activities, the store and api only as types' },
];
/** Lowest first: a layer imports only those before it. */
const workflowLayers = ['model', 'proxies', 'task', 'procedures', 'runner', 'operations'];
/** Layers whose files stand alone (one operation or procedure each). */
const siblingFree = ['operations', 'procedures'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'images/rootfs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // process.env is read in one place only: worker/config.ts (plus the launcher and test harness that pass it on).
    files: ['api/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through worker/config.ts' }] },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O libraries, activities only as types.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: sandboxPatterns }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'use Temporal time (workflow Date is replay-safe only through the SDK)' }],
    },
  },
  // workflows/ in layers that import only downward; only workflows/index.ts imports operations.
  ...workflowLayers.map((layer, i) => ({
    files: [`workflows/${layer}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          ...sandboxPatterns,
          { group: ['../index', '../index.js', ...workflowLayers.slice(i + 1).map((above) => `../${above}/**`)], message: `workflows/${layer} may import only the layers below it (${workflowLayers.slice(0, i).join(', ') || 'none'}): ${workflowLayers.slice().reverse().join(' → ')}` },
          ...(siblingFree.includes(layer) ? [{ group: ['./**'], message: `a file in workflows/${layer} does not import another: share through a lower layer` }] : []),
        ],
      }],
    },
  })),
  {
    // Tests read JSON response bodies loosely.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
  },
);
