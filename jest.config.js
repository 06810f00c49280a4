// ESM jest: every .ts file is transpiled (no type check here; `npm test` runs tsc first).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  // Sources import siblings as `./x.ts`; with rewriteRelativeImportExtensions (needed by ncc) the
  // transpiled code asks for `./x.js`: map relative .js requests back to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 120000,
};
