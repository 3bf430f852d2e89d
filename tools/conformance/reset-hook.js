'use strict';
/**
 * Mocha `--require` hook used by `npm run conformance` (tools/conformance/run.ts).
 *
 * BitBroker's test harness resets the server by running SQL against
 * BitBroker's own schema (`entity`, `catalog`, knex on APP_DATABASE). This
 * hook is a mocha root hook plugin: before any suite runs, it replaces the
 * database functions of the harness module `lib/shared.js` (of the test copy
 * in the current directory) with equivalents for this platform's schema.
 * Nothing else of the harness is touched: the HTTP assertions, data and test
 * files run unchanged.
 *
 *   before_any()         reset, before each test file
 *   after_all(wipe)      reset (unless wipe === false), then close the pool
 *   nuke()               delete everything except user 1 (and its key)
 *   wipe()               delete the contributed records only
 *   last_id(table, col)  last value of the table's id sequence
 *
 * Sequences are never reset: user ids stay monotonic, which the tests rely
 * on (`last_id('users')` predicts the next user id).
 *
 * Environment (set by the runner):
 *   CONFORMANCE_DATABASE_URL   our PostgreSQL (default postgres://postgres@127.0.0.1:5432/odb)
 *   CONFORMANCE_WIPE_TABLES    LIKE patterns cleared by wipe()   (default "record%")
 *   CONFORMANCE_NUKE_TABLES    LIKE patterns cleared by nuke()   (default "record%,session%,operation%")
 *   CONFORMANCE_DEBUG=1        log each reset to stderr
 */

const path = require('path');
const { Pool } = require('pg'); // this repository's dependency, not the tests' copy

const DATABASE_URL = process.env.CONFORMANCE_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/odb';
const WIPE_PATTERNS = patterns(process.env.CONFORMANCE_WIPE_TABLES, ['record%']);
const NUKE_PATTERNS = patterns(process.env.CONFORMANCE_NUKE_TABLES, ['record%', 'session%', 'operation%']);
const DEBUG = process.env.CONFORMANCE_DEBUG === '1';

/** BitBroker table names the harness may pass to last_id(), mapped to ours. */
const TABLE_NAMES = { entity: 'entity_type' };

// The harness module the test files load (`require('./lib/shared.js')` from the current directory).
const sharedPath = path.resolve(process.cwd(), 'lib', 'shared.js');

let pool = null;

function db() {
  if (!pool) {
    pool = new Pool({ connectionString: DATABASE_URL, max: 2, application_name: 'odb-conformance' });
    pool.on('error', (error) => process.stderr.write(`conformance reset: idle database connection failed: ${error.message}\n`));
  }
  return pool;
}

function patterns(value, fallback) {
  const list = (value || '').split(',').map((item) => item.trim()).filter(Boolean);
  return list.length > 0 ? list : fallback;
}

function debug(message) {
  if (DEBUG) process.stderr.write(`conformance reset: ${message}\n`);
}

/** Tables of the current schema whose name matches one of the LIKE patterns, quoted. */
async function tablesLike(client, likePatterns) {
  const { rows } = await client.query(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() AND c.relname LIKE ANY ($1::text[])
      ORDER BY 1`,
    [likePatterns],
  );
  return rows.map((row) => row.name);
}

async function exists(client, table) {
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return rows[0].present;
}

/** TRUNCATE … CASCADE the tables matching the patterns; sequences are kept (no RESTART IDENTITY). */
async function truncateLike(client, likePatterns) {
  const tables = await tablesLike(client, likePatterns);
  if (tables.length > 0) await client.query(`TRUNCATE ${tables.join(', ')} CASCADE`);
  return tables;
}

/** Deletes the rows of `table` matching `where`, only when the table exists. */
async function deleteFrom(client, table, where = '') {
  if (!(await exists(client, table))) return 0;
  const result = await client.query(`DELETE FROM ${table}${where ? ` WHERE ${where}` : ''}`);
  return result.rowCount;
}

/**
 * Keys nothing refers to any more (their user, connector or access is gone).
 * The referring columns are read from the foreign keys, so tables added later are respected.
 */
async function deleteOrphanKeys(client) {
  if (!(await exists(client, 'auth_key'))) return 0;
  const { rows } = await client.query(
    `SELECT format('%I.%I', n.nspname, t.relname) AS tbl, format('%I', a.attname) AS col, format('%I', ra.attname) AS ref
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND c.confrelid = to_regclass('auth_key') AND cardinality(c.conkey) = 1`,
  );
  const conditions = rows.map((row) => `NOT EXISTS (SELECT 1 FROM ${row.tbl} r WHERE r.${row.col} = k.${row.ref})`);
  const result = await client.query(`DELETE FROM auth_key k${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}`);
  return result.rowCount;
}

async function transaction(work) {
  const client = await db().connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '30s'`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function nuke() {
  const report = await transaction(async (client) => {
    const truncated = await truncateLike(client, NUKE_PATTERNS); // records, sessions, buffered operations
    const entityTypes = await deleteFrom(client, 'entity_type'); // cascades to connector
    const policies = await deleteFrom(client, 'policy'); // cascades to access
    const users = await deleteFrom(client, 'users', 'id <> 1'); // cascades to access; keeps the bootstrap user
    const keys = await deleteOrphanKeys(client); // keeps user 1's coordinator key
    return { truncated, entityTypes, policies, users, keys };
  });
  debug(`nuke: truncated [${report.truncated.join(', ')}], deleted ${report.entityTypes} entity type(s), ${report.policies} policy(ies), ${report.users} user(s), ${report.keys} key(s)`);
}

async function wipe() {
  const truncated = await transaction((client) => truncateLike(client, WIPE_PATTERNS));
  debug(`wipe: truncated [${truncated.join(', ')}]`);
}

async function lastId(table, column = 'id') {
  const client = await db().connect();
  try {
    let name = table;
    if (!(await exists(client, name)) && TABLE_NAMES[table]) name = TABLE_NAMES[table];
    const { rows } = await client.query('SELECT pg_get_serial_sequence($1, $2) AS seq', [name, column]);
    let sequence = rows[0].seq;
    if (!sequence) {
      const fallback = `${name}_${column}_seq`;
      if (!(await exists(client, fallback))) throw new Error(`conformance reset: no sequence for ${name}.${column}`);
      sequence = fallback;
    }
    const { rows: values } = await client.query(`SELECT last_value FROM ${sequence}`);
    return parseInt(values[0].last_value, 10);
  } finally {
    client.release();
  }
}

/** Replaces the harness's database functions on its (singleton) export. */
function patch(shared) {
  for (const name of ['before_any', 'after_all', 'nuke', 'wipe', 'last_id']) {
    if (typeof shared[name] !== 'function') {
      throw new Error(`${sharedPath} no longer exports ${name}(); tools/conformance/reset-hook.js must be updated to the new harness`);
    }
  }
  shared.nuke = () => nuke();
  shared.wipe = () => wipe();
  shared.last_id = (table, column = 'id') => lastId(table, column);
  shared.before_any = () => nuke();
  shared.after_all = (wipeAll = true) => (wipeAll ? nuke() : Promise.resolve()).then(closePool);
}

async function closePool() {
  const closing = pool;
  pool = null;
  if (closing) await closing.end();
}

/**
 * A mocha root hook plugin: shared.js cannot be loaded before the test files,
 * because chakram needs mocha's globals (afterEach) when it loads. The root
 * `beforeAll` runs after every file is loaded and before any suite's own
 * `before` (where the tests call Shared.before_any()), and the harness only
 * touches the database from hooks and tests; require() returns the instance the
 * test files already hold.
 */
exports.mochaHooks = {
  beforeAll() {
    patch(require(sharedPath));
  },
  afterAll() {
    return closePool();
  },
};
