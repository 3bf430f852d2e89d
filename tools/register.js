// Runs the TypeScript sources directly (SWC, with decorator metadata and the
// tsconfig path aliases), so `npm start` needs no build step.
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || require('path').join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
