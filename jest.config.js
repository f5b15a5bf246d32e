// One jest run for the whole repository: unit tests of each lib and service, integration
// tests against the real local stack (started by globalSetup through infra/local/stack.sh),
// and the cross-service tests under tests/.
/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  testMatch: ['<rootDir>/libs/*/test/**/*.test.ts', '<rootDir>/services/*/test/**/*.test.ts', '<rootDir>/tests/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  // Integration tests share one broker and one database server on two cores.
  maxWorkers: 2,
  testTimeout: 60_000,
  slowTestThreshold: 20,
  forceExit: false,
};
