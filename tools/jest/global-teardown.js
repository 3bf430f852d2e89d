require('./paths');
module.exports = require('../../libs/testing/src/jest/global-teardown.ts').default;
