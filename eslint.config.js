// ESLint flat config: ESLint's and typescript-eslint's recommended rules over every TypeScript and
// JavaScript file of the repository.   npm run lint
// Formatting is Prettier's job (npm run format:check), so no stylistic rule is turned on here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.state/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A `let` bound late on purpose, after a closure that reads it was made (emulator/index.ts),
      // cannot be a `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A leading `_` marks a name that is unused on purpose (an interface's parameter, a skipped
      // element of a destructured tuple), as tsc's noUnusedParameters already accepts.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ['__tests__/**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      // Tests read the emulator's and GitHub's answers as parsed JSON whose shape each assertion
      // then checks (toEqual, toMatchObject): typing every answer would only restate the assertion.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
