import { GenericContainer, StartedTestContainer, Wait } from 'testcontainers';

/** Starts PostgreSQL+PostGIS, Redis and NATS (JetStream) in containers, for machines with a Docker engine. */
export async function startContainers(): Promise<{
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  containers: StartedTestContainer[];
}> {
  const [postgres, redis, nats] = await Promise.all([
    new GenericContainer('postgis/postgis:16-3.4-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: 'postgres', POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer('redis:7-alpine').withExposedPorts(6379).start(),
    new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start(),
  ]);
  return {
    databaseUrl: `postgres://postgres:postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    natsUrl: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
    containers: [postgres, redis, nats],
  };
}
