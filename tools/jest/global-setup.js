require('./paths');
module.exports = require('../../libs/testing/src/jest/global-setup.ts').default;
