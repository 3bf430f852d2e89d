// Jest runs global set-up and teardown outside its module system (no
// moduleNameMapper), so resolve the @odb/* aliases of tsconfig here.
const { join } = require('path');
const { compilerOptions } = require('../../tsconfig.base.json');
require('tsconfig-paths').register({ baseUrl: join(__dirname, '../..'), paths: compilerOptions.paths });
