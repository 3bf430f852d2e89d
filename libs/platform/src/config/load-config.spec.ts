import { ConfigurationError, loadConfig } from './load-config';
import { RestServiceConfig, ServiceConfig, WithRedis } from './service-config';

class ExampleConfig extends WithRedis(RestServiceConfig) {
  override PORT = 8001;
}

describe('loadConfig', () => {
  it('uses working local defaults when nothing is set', () => {
    const config = loadConfig(ExampleConfig, {});
    expect(config).toMatchObject({
      PORT: 8001,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/odb',
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
      API_BASE: '/v1',
      MIGRATE_ON_START: false,
      EVENTS_NAMESPACE: 'odb',
    });
  });

  it('converts numbers and booleans from their text form', () => {
    const config = loadConfig(ExampleConfig, { PORT: '9000', MIGRATE_ON_START: 'true', DATABASE_POOL_SIZE: '3' });
    expect(config.PORT).toBe(9000);
    expect(config.MIGRATE_ON_START).toBe(true);
    expect(config.DATABASE_POOL_SIZE).toBe(3);
  });

  it('names every malformed variable in one error', () => {
    let error: unknown;
    try {
      loadConfig(ExampleConfig, { PORT: 'eighty', NATS_URL: 'http://nats', MIGRATE_ON_START: 'maybe', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.join('\n');
    for (const variable of ['PORT', 'NATS_URL', 'MIGRATE_ON_START', 'LOG_LEVEL']) expect(problems).toContain(`${variable}:`);
    expect((error as ConfigurationError).problems).toHaveLength(4);
  });

  it('never echoes a password from a malformed URL', () => {
    expect(() => loadConfig(ServiceConfig, { DATABASE_URL: 'mysql://user:hunter2@db/odb' })).toThrow(ConfigurationError);
    try {
      loadConfig(ServiceConfig, { DATABASE_URL: 'mysql://user:hunter2@db/odb' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).toContain('DATABASE_URL');
    }
  });

  it('ignores variables it does not declare', () => {
    expect(() => loadConfig(ServiceConfig, { SOMETHING_ELSE: '!!' })).not.toThrow();
  });
});
