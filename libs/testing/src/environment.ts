import { randomBytes } from 'crypto';
import { Client } from 'pg';
import Redis from 'ioredis';
import { connect } from 'nats';
import { quoteIdentifier } from '@odb/persistence';
import { EventTopology } from '@odb/messaging';
import { TestInfrastructure, currentInfrastructure } from './infrastructure';
import { dropDatabase, withDatabase } from './jest/global-setup';

/**
 * What one test file owns: a database cloned from the migrated template, a
 * NATS namespace (streams and subjects) and a Redis key prefix. Nothing of it
 * is visible to other files, so files run in parallel.
 */
export class TestEnvironment {
  private constructor(
    private readonly infrastructure: TestInfrastructure,
    readonly id: string,
    readonly databaseName: string,
  ) {}

  static async create(): Promise<TestEnvironment> {
    const infrastructure = currentInfrastructure();
    if ('missing' in infrastructure) throw new Error(infrastructure.missing);
    const id = `t${randomBytes(5).toString('hex')}`;
    const databaseName = `odb_${id}`;
    const admin = new Client({ connectionString: withDatabase(infrastructure.databaseUrl, 'postgres') });
    await admin.connect();
    try {
      await admin.query(
        `CREATE DATABASE ${quoteIdentifier(databaseName)} TEMPLATE ${quoteIdentifier(infrastructure.templateDatabase)}`,
      );
    } finally {
      await admin.end();
    }
    return new TestEnvironment(infrastructure, id, databaseName);
  }

  get databaseUrl(): string {
    return withDatabase(this.infrastructure.databaseUrl, this.databaseName);
  }

  get natsUrl(): string {
    return this.infrastructure.natsUrl;
  }

  get redisUrl(): string {
    return this.infrastructure.redisUrl;
  }

  /** NATS namespace: streams `<ID>_EVENTS`, subjects `<id>.events.v1.…`. */
  get namespace(): string {
    return this.id;
  }

  get redisPrefix(): string {
    return this.id;
  }

  /** Environment for a service process (or config object) bound to this test file's resources. */
  serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.ODB_TEST_LOG_LEVEL ?? 'warn',
      DATABASE_URL: this.databaseUrl,
      NATS_URL: this.natsUrl,
      REDIS_URL: this.redisUrl,
      EVENTS_NAMESPACE: this.namespace,
      REDIS_PREFIX: this.redisPrefix,
      DATABASE_POOL_SIZE: '4',
      ...extra,
    };
  }

  /** Drops the database, the NATS streams and the Redis keys of this file. */
  async dispose(): Promise<void> {
    await dropDatabase(this.infrastructure.databaseUrl, this.databaseName).catch(() => undefined);
    await this.deleteStreams().catch(() => undefined);
    await this.deleteRedisKeys().catch(() => undefined);
  }

  private async deleteStreams(): Promise<void> {
    const nc = await connect({ servers: this.natsUrl });
    try {
      const jsm = await nc.jetstreamManager();
      const topology = new EventTopology(this.namespace);
      for (const stream of [topology.eventStream, topology.deadLetterStream]) {
        await jsm.streams.delete(stream).catch(() => undefined);
      }
    } finally {
      await nc.close();
    }
  }

  private async deleteRedisKeys(): Promise<void> {
    const redis = new Redis(this.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}

/**
 * `describe` for tests that need PostgreSQL, Redis and NATS: skipped, with the
 * reason printed, when the global set-up found no infrastructure.
 */
export function describeWithInfrastructure(name: string, body: () => void): void {
  const infrastructure = currentInfrastructure();
  if ('missing' in infrastructure) {
    describe.skip(`${name} (skipped: ${infrastructure.missing})`, body);
  } else {
    describe(name, body);
  }
}
