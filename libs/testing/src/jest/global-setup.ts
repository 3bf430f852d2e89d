import { Client } from 'pg';
import { quoteIdentifier, runMigrations } from '@odb/persistence';
import { INFRA_ENV, INFRA_MISSING_ENV, TestInfrastructure, chooseInfrastructure } from '../infrastructure';

/**
 * Runs once per Jest run: picks the infrastructure, migrates a template
 * database that every test file clones, and hands both to the workers
 * through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const choice = await chooseInfrastructure();
  if (choice.kind === 'missing') {
    // In CI a skipped suite would look green: refuse instead.
    if (process.env.CI === 'true') throw new Error(choice.reason);
    process.env[INFRA_MISSING_ENV] = choice.reason;
    process.stderr.write(`\n[odb tests] SKIPPING infrastructure tests: ${choice.reason}\n`);
    return;
  }
  let urls: { databaseUrl: string; redisUrl: string; natsUrl: string };
  if (choice.kind === 'testcontainers') {
    const { startContainers } = await import('../containers');
    const started = await startContainers();
    (globalThis as { __odbContainers?: unknown }).__odbContainers = started.containers;
    urls = started;
  } else {
    urls = choice;
  }
  const templateDatabase = `odb_test_template_${process.pid}`;
  const templateUrl = withDatabase(urls.databaseUrl, templateDatabase);
  await dropDatabase(urls.databaseUrl, templateDatabase);
  await runMigrations({ url: templateUrl, applicationName: 'odb-test-template' });
  const infrastructure: TestInfrastructure = { ...urls, templateDatabase, source: choice.kind };
  process.env[INFRA_ENV] = JSON.stringify(infrastructure);
  process.stderr.write(`\n[odb tests] infrastructure from ${choice.kind}; template database ${templateDatabase}\n`);
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
