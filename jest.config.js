// Unit tests live next to the code (*.spec.ts); cross-package tests under test/ (*.e2e-spec.ts).
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const setupFiles = ['<rootDir>/test/support/fast-check-seed.ts'];
module.exports = {
  // A suite that leaves a handle open must not keep CI waiting after the last result.
  forceExit: true,
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, setupFiles, testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { displayName: 'e2e', testEnvironment: 'node', transform, setupFiles, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
