/** Tests run TypeScript through SWC (with decorator metadata, which type-graphql and MikroORM read). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // mppx ships only ES modules; Jest's module system loads CommonJS, so its files are compiled too.
    '/node_modules/mppx/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
    // The Rust planner's runtime loads the planner with import(), which Jest's module system refuses.
    '/node_modules/@graphql-hive/router-runtime/.+\\.cjs$': ['@swc/jest', { module: { type: 'commonjs' } }],
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!mppx/|@graphql-hive/router-runtime/)'],
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // Each test file has its own database and platform, so two run side by side: a file spends much
  // of its time waiting on PostgreSQL, and one worker left the second core idle.
  maxWorkers: 2,
};
