// One Jest run for the whole workspace. Test files talk to real PostgreSQL,
// Redis and NATS (see libs/testing); each file gets its own database,
// subject namespace and key prefix, so files run in parallel.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);

/** Packages that ship ES modules only (through @fastify/static, the Fastify services' Swagger UI). */
const ESM_ONLY = ['content-disposition'];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,tools,e2e}/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
      },
    ],
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // ESM-only dependencies (Node requires them natively, Jest does not): compiled to CommonJS like our sources.
  transformIgnorePatterns: [`^(?!.*/node_modules/(${ESM_ONLY.join('|')})/).*/node_modules/`],
  moduleNameMapper,
  globalSetup: '<rootDir>/tools/jest/global-setup.js',
  globalTeardown: '<rootDir>/tools/jest/global-teardown.js',
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.js'],
  testTimeout: 60_000,
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 3,
  // A worker's memory grows file after file (~800 MB RSS by the end of the suite), and a process that size
  // takes over half a second to tear down on 2 busy cores: past the 500 ms Jest waits before killing it
  // and warning of a leak that is not there. Recycling a worker once above 512 MB keeps them small.
  workerIdleMemoryLimit: '512MB',
};
