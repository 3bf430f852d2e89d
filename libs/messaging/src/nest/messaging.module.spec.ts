import { Injectable, INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainEvent, EventSubjects, RpcSubjects } from '@odb/contracts';
import { dataSourceOptions } from '@odb/persistence';
import { TestEnvironment, describeWithInfrastructure, sleep, waitFor } from '@odb/testing';
import { EventOutbox } from '../outbox';
import { RpcClient, RpcError } from '../rpc';
import { OnDomainEvent, OnRpcRequest } from './decorators';
import { MessagingModule } from './messaging.module';

@Injectable()
class PublicationTrigger {
  readonly seen: DomainEvent[] = [];
  readonly applied: string[] = [];

  @OnDomainEvent(EventSubjects.ConnectorPromoted)
  async onPromoted(event: DomainEvent<'connector.promoted'>): Promise<void> {
    this.seen.push(event);
  }

  @OnDomainEvent(EventSubjects.ConnectorDemoted, { idempotent: true })
  async onDemoted(event: DomainEvent<'connector.demoted'>, manager: EntityManager): Promise<void> {
    await manager.query('INSERT INTO demotion_log (connector) VALUES ($1)', [event.payload.connectorId]);
    this.applied.push(event.id);
  }

  @OnRpcRequest(RpcSubjects.Ping)
  async ping(request: { from: string }) {
    if (request.from === 'nobody') throw new RpcError(404, 'unknown caller');
    return { service: 'test-service', instance: `hello ${request.from}` };
  }
}

@Injectable()
class SlowHandler {
  readonly started: string[] = [];
  readonly finished: string[] = [];

  @OnDomainEvent(EventSubjects.PolicyUpdated)
  async onPolicyUpdated(event: DomainEvent<'policy.updated'>): Promise<void> {
    this.started.push(event.id);
    await sleep(800);
    this.finished.push(event.id);
  }
}

describeWithInfrastructure('MessagingModule in a Nest application', () => {
  let env: TestEnvironment;
  let app: INestApplicationContext;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions({ url: env.databaseUrl, poolSize: 4 })),
        MessagingModule.forRoot({
          serviceName: 'test-service',
          natsUrl: env.natsUrl,
          namespace: env.namespace,
        }),
      ],
      providers: [PublicationTrigger],
    }).compile();
    app = await moduleRef.init();
    await app.get(DataSource).query('CREATE TABLE demotion_log (connector text)');
  });

  afterAll(async () => {
    await app?.close();
    await env?.dispose();
  });

  const connector = { entityTypeId: 'country', connectorId: 'wikipedia', contributionId: 'c'.repeat(40), isLive: true };

  it('calls a decorated handler for an event committed through the outbox', async () => {
    const outbox = app.get(EventOutbox);
    await app.get(DataSource).transaction((manager) => outbox.append(manager, EventSubjects.ConnectorPromoted, connector));
    const handler = app.get(PublicationTrigger);
    await waitFor(() => handler.seen.length === 1, { what: 'handler call' });
    expect(handler.seen[0]).toMatchObject({ subject: 'connector.promoted', source: 'test-service', payload: connector });
  });

  it('applies an idempotent handler once per event, in the transaction that records it', async () => {
    const dataSource = app.get(DataSource);
    await dataSource.transaction((manager) =>
      app.get(EventOutbox).append(manager, EventSubjects.ConnectorDemoted, { ...connector, isLive: false }),
    );
    const handler = app.get(PublicationTrigger);
    await waitFor(() => handler.applied.length === 1);
    await sleep(200);
    const rows = await dataSource.query(
      `SELECT consumer FROM processed_event WHERE event_id = $1`,
      [handler.applied[0]],
    );
    expect(rows).toEqual([{ consumer: 'test-service.PublicationTrigger.onDemoted' }]);
    expect(await dataSource.query('SELECT connector FROM demotion_log')).toEqual([{ connector: 'wikipedia' }]);
  });

  it('answers request/reply over NATS, with errors carried back as RpcError', async () => {
    const client = app.get(RpcClient);
    await expect(client.call(RpcSubjects.Ping, { from: 'a test' })).resolves.toEqual({
      service: 'test-service',
      instance: 'hello a test',
    });
    await expect(client.call(RpcSubjects.Ping, { from: 'nobody' })).rejects.toMatchObject({ code: 404, message: 'unknown caller' });
    await expect(client.request('no.such.subject', {}, { timeoutMs: 500 })).rejects.toBeInstanceOf(RpcError);
  });
});

describeWithInfrastructure('MessagingModule shutdown', () => {
  it('lets the message being handled finish and acks it before the application closes', async () => {
    const env = await TestEnvironment.create();
    const options = { serviceName: 'drain-test', natsUrl: env.natsUrl, namespace: env.namespace };
    const start = async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [TypeOrmModule.forRoot(dataSourceOptions({ url: env.databaseUrl, poolSize: 4 })), MessagingModule.forRoot(options)],
        providers: [SlowHandler],
      }).compile();
      return moduleRef.init();
    };
    try {
      const first = await start();
      await first.get(DataSource).transaction((manager) => first.get(EventOutbox).append(manager, EventSubjects.PolicyUpdated, { policyId: 'p' }));
      const slow = first.get(SlowHandler);
      await waitFor(() => slow.started.length === 1, { what: 'handler started' });
      await first.close(); // while the handler is still sleeping
      expect(slow.finished).toEqual(slow.started);

      // Acked before closing: a new instance of the same consumer does not get it again.
      const second = await start();
      await sleep(1500);
      expect(second.get(SlowHandler).started).toEqual([]);
      await second.close();
    } finally {
      await env.dispose();
    }
  }, 30_000);
});
