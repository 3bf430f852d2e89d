// Runs the compiled output of `npm run build` (production; no SWC, no
// TypeScript at run time):
//
//   node -r ./tools/dist-register.js dist/apps/coordinator/src/main.js
//
// tsc keeps the `@odb/*` import specifiers as they are, so they are mapped
// here onto the compiled libraries. Every library follows the layout declared
// in tsconfig.base.json (`@odb/<name>` -> libs/<name>/src/index.ts), hence one
// wildcard rule; the tsconfig itself is not needed at run time.
const { resolve } = require('path');
const { register } = require('tsconfig-paths');

register({
  baseUrl: resolve(__dirname, '..', 'dist'),
  paths: { '@odb/*': ['libs/*/src/index.js'] },
  // Without this, every bare specifier (`express`, `pg`, ...) would first be
  // looked up under dist/ before node_modules.
  addMatchAll: false,
});
