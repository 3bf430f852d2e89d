import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { QueryErrorLogger } from './query-error-logger';
import { ENTITIES, MIGRATIONS } from './registry';

export interface DatabaseOptions {
  url: string;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  poolSize?: number;
  /** PostgreSQL settings of every connection of the pool (`-c name=value` at connection start). */
  settings?: Record<string, string>;
}

export function dataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    logger: new QueryErrorLogger(),
    extra: {
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'odb',
      ...(options.settings && Object.keys(options.settings).length > 0
        ? { options: Object.entries(options.settings).map(([name, value]) => `-c ${name}=${value}`).join(' ') }
        : {}),
    },
  };
}

/** Creates the database named in the URL when it does not exist yet (fresh machine). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database: ${redactUrl(url)}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Applies pending migrations; running it again is a no-op. Returns the names applied. */
export async function runMigrations(options: DatabaseOptions): Promise<string[]> {
  await ensureDatabaseExists(options.url);
  const dataSource = new DataSource(dataSourceOptions({ ...options, poolSize: 1 }));
  await dataSource.initialize();
  try {
    // A lock so that replicas started together migrate one after the other.
    await dataSource.query(`SELECT pg_advisory_lock(hashtext('odb.migrations'))`);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await dataSource.query(`SELECT pg_advisory_unlock(hashtext('odb.migrations'))`);
    }
  } finally {
    await dataSource.destroy();
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}
