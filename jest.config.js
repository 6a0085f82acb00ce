// Two projects: `unit` is the pure core (no I/O, no engine); `integration` talks to a real
// MongoDB-wire engine that its global setup starts once per run.
const shared = {
  testEnvironment: 'node',
  // @noble and @scure ship ESM only; Jest's CommonJS runtime needs them transformed.
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
    '^.+\\.m?js$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@noble|@scure)/)'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  // Tests stop the processes they start; this is the backstop so that a failed test that
  // leaks one cannot keep a CI run waiting until its time limit.
  forceExit: true,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/storage/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/globalSetup.ts',
      globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
    },
  ],
};
