import { DataSource } from 'typeorm';
import { JetStreamClient, JetStreamManager, NatsConnection, connect } from 'nats';
import { DomainEvent, EventSubjects, deadLetterSubject } from '@odb/contracts';
import { dataSourceOptions } from '@odb/persistence';
import { TestEnvironment, describeWithInfrastructure, sleep, waitFor } from '@odb/testing';
import { DEAD_LETTER_HEADERS, DurableEventConsumer, EventHandlerFn } from './event-consumer';
import { processOnce } from './inbox';
import { EventOutbox } from './outbox';
import { JetStreamOutboxPublisher, OutboxPublisher, OutboxRelay, OutboxRow } from './outbox-relay';
import { EventTopology } from './topology';
import { json } from './codec';

describeWithInfrastructure('transactional outbox relayed to JetStream', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let topology: EventTopology;
  let namespace: string;
  let testNumber = 0;
  const outbox = new EventOutbox('outbox-test');
  const running: Array<{ stop(): Promise<unknown> }> = [];

  beforeAll(async () => {
    env = await TestEnvironment.create();
    dataSource = await new DataSource(dataSourceOptions({ url: env.databaseUrl, poolSize: 4 })).initialize();
    outbox.watch(dataSource);
    nc = await connect({ servers: env.natsUrl });
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
  });

  // Each test gets streams of its own, so no consumer sees another test's events.
  beforeEach(async () => {
    testNumber += 1;
    namespace = `${env.namespace}n${testNumber}`;
    topology = new EventTopology(namespace);
    await topology.ensureStreams(jsm);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((component) => component.stop()));
    await dataSource.query('DELETE FROM outbox_event');
    await jsm.streams.delete(topology.eventStream);
    await jsm.streams.delete(topology.deadLetterStream);
  });

  afterAll(async () => {
    await nc?.close();
    await dataSource?.destroy();
    await env?.dispose();
  });

  const publisher = () => new JetStreamOutboxPublisher(js, namespace);

  async function startRelay(customPublisher: OutboxPublisher = publisher()): Promise<OutboxRelay> {
    const relay = new OutboxRelay(dataSource, customPublisher, { wakeOn: outbox, pollIntervalMs: 200 });
    await relay.start();
    running.push(relay);
    return relay;
  }

  async function startConsumer(name: string, handler: EventHandlerFn, maxAttempts = 3): Promise<DurableEventConsumer> {
    const consumer = new DurableEventConsumer(js, jsm, topology, {
      name,
      subject: EventSubjects.EntityTypeUpdated,
      handler,
      maxAttempts,
      backoffMs: [50],
    });
    await consumer.start();
    running.push(consumer);
    return consumer;
  }

  function collect(): { events: DomainEvent[]; handler: EventHandlerFn } {
    const events: DomainEvent[] = [];
    return { events, handler: async (event) => void events.push(event) };
  }

  async function emit(entityTypeId: string): Promise<string> {
    return dataSource.transaction((manager) => outbox.append(manager, EventSubjects.EntityTypeUpdated, { entityTypeId }));
  }

  it('delivers an event written in a committed transaction to a durable consumer', async () => {
    const { events, handler } = collect();
    await startConsumer('committed', handler);
    await startRelay();

    const id = await emit('country');

    await waitFor(() => events.length === 1, { what: 'delivery' });
    expect(events[0]).toMatchObject({
      id,
      subject: 'entity-type.updated',
      source: 'outbox-test',
      payload: { entityTypeId: 'country' },
    });
    expect(Number.isNaN(Date.parse(events[0].occurredAt))).toBe(false);
    await waitFor(async () => (await dataSource.query('SELECT count(*)::int AS n FROM outbox_event'))[0].n === 0, {
      what: 'outbox emptied',
    });
  });

  it('never delivers an event whose transaction rolled back', async () => {
    const { events, handler } = collect();
    await startConsumer('rolled-back', handler);
    await startRelay();

    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.append(manager, EventSubjects.EntityTypeUpdated, { entityTypeId: 'rolled-back' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await emit('marker');

    await waitFor(() => events.some((event) => (event.payload as { entityTypeId: string }).entityTypeId === 'marker'));
    await sleep(300);
    expect(events.map((event) => (event.payload as { entityTypeId: string }).entityTypeId)).toEqual(['marker']);
  });

  it('announces a commit that wrote events once the outermost transaction commits, never a rollback', async () => {
    let announced = 0;
    const stop = outbox.onCommitted(() => (announced += 1));
    try {
      await dataSource.transaction(async (manager) => {
        await manager.transaction((inner) => outbox.append(inner, EventSubjects.EntityTypeUpdated, { entityTypeId: 'nested' }));
        expect(announced).toBe(0); // the savepoint is released, the transaction still open
        await manager.query('SELECT 1');
        expect(announced).toBe(0);
      });
      expect(announced).toBe(1);
      await expect(
        dataSource.transaction(async (manager) => {
          await outbox.append(manager, EventSubjects.EntityTypeUpdated, { entityTypeId: 'rolled-back' });
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      await dataSource.transaction((manager) => manager.query('SELECT 1'));
      expect(announced).toBe(1);
    } finally {
      stop();
    }
  });

  it('publishes at the commit, not at the next poll: the writer wakes its relay', async () => {
    const { events, handler } = collect();
    await startConsumer('woken', handler);
    const relay = new OutboxRelay(dataSource, publisher(), { wakeOn: outbox, pollIntervalMs: 60_000 });
    await relay.start();
    running.push(relay);
    await sleep(200); // the relay's first look, at start, is over
    const committed = Date.now();
    await emit('woken');
    await waitFor(() => events.length === 1, { what: 'delivery', timeoutMs: 5_000 });
    expect(Date.now() - committed).toBeLessThan(2_000);
  });

  it('refuses to write an event outside a transaction', async () => {
    await expect(outbox.append(dataSource.manager, EventSubjects.EntityTypeUpdated, { entityTypeId: 'x' })).rejects.toThrow(
      /open transaction/,
    );
  });

  it('delivers, once, an event committed while no relay was running (relay died before publishing)', async () => {
    const { events, handler } = collect();
    await startConsumer('relay-down', handler);

    const id = await emit('while-down');
    await sleep(300);
    expect(events).toHaveLength(0);

    await startRelay();
    await waitFor(() => events.length === 1, { what: 'delivery after relay restart' });
    await sleep(300);
    expect(events.map((event) => event.id)).toEqual([id]);
  });

  it('delivers once when the relay crashed after publishing and before marking the row (JetStream de-duplication)', async () => {
    const { events, handler } = collect();
    await startConsumer('relay-crash', handler);
    const real = publisher();
    let crashes = 0;
    const crashingAfterPublish: OutboxPublisher = {
      async publish(rows: OutboxRow[]) {
        await real.publish(rows);
        crashes += 1;
        throw new Error('process died before deleting the outbox rows');
      },
    };
    const first = new OutboxRelay(dataSource, crashingAfterPublish, {});
    const id = await emit('crash');
    await expect(first.drainOnce()).rejects.toThrow(/process died/);
    expect(crashes).toBe(1);
    expect((await dataSource.query('SELECT id FROM outbox_event')).map((row: { id: string }) => row.id)).toEqual([id]);

    await startRelay();
    await waitFor(async () => (await dataSource.query('SELECT count(*)::int AS n FROM outbox_event'))[0].n === 0);
    await waitFor(() => events.length >= 1);
    await sleep(500);
    expect(events.map((event) => event.id)).toEqual([id]);
  });

  it('redelivers to a consumer that throws, and dead-letters the message after the attempt limit', async () => {
    const attempts: number[] = [];
    const consumer = await startConsumer(
      'always-fails',
      async (_event, context) => {
        attempts.push(context.attempt);
        throw new Error('remote is down');
      },
      3,
    );
    const dlqSubject = deadLetterSubject(namespace, consumer.durable);
    const dlq = nc.subscribe(dlqSubject, { max: 1 });
    await startRelay();

    const id = await emit('poison');

    const [dead] = await Promise.all([
      (async () => {
        for await (const message of dlq) return message;
        return undefined;
      })(),
    ]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toBeDefined();
    expect((json.decode(dead!.data) as DomainEvent).id).toBe(id);
    expect(dead!.headers?.get(DEAD_LETTER_HEADERS.reason)).toBe('remote is down');
    expect(dead!.headers?.get(DEAD_LETTER_HEADERS.attempts)).toBe('3');
    // The dead-letter stream keeps it for inspection and replay.
    const stored = await jsm.streams.getMessage(topology.deadLetterStream, { last_by_subj: dlqSubject });
    expect((json.decode(stored.data) as DomainEvent).id).toBe(id);
    await sleep(300);
    expect(attempts).toHaveLength(3);
  });

  it('retries a failing handler and succeeds once it recovers', async () => {
    const attempts: number[] = [];
    await startConsumer('recovers', async (_event, context) => {
      attempts.push(context.attempt);
      if (context.attempt < 2) throw new Error('transient');
    });
    await startRelay();
    await emit('flaky');
    await waitFor(() => attempts.length === 2);
    await sleep(300);
    expect(attempts).toEqual([1, 2]);
  });

  it('gives a consumer that was down what was published meanwhile', async () => {
    const first = collect();
    const consumer = await startConsumer('was-down', first.handler);
    await startRelay();
    await emit('before');
    await waitFor(() => first.events.length === 1);
    await consumer.stop();

    await emit('during-1');
    await emit('during-2');
    await sleep(300);

    const second = collect();
    await startConsumer('was-down', second.handler);
    await waitFor(() => second.events.length === 2, { what: 'backlog delivered' });
    expect(second.events.map((event) => (event.payload as { entityTypeId: string }).entityTypeId)).toEqual([
      'during-1',
      'during-2',
    ]);
  });

  it('keeps the order of events within a relay', async () => {
    const { events, handler } = collect();
    await startConsumer('ordered', handler);
    await dataSource.transaction((manager) =>
      outbox.appendMany(
        manager,
        Array.from({ length: 50 }, (_, i) => ({ subject: EventSubjects.EntityTypeUpdated, payload: { entityTypeId: `e${i}` } })),
      ),
    );
    await startRelay();
    await waitFor(() => events.length === 50, { what: '50 events' });
    expect(events.map((event) => (event.payload as { entityTypeId: string }).entityTypeId)).toEqual(
      Array.from({ length: 50 }, (_, i) => `e${i}`),
    );
  });

  it('applies an event once even when it is delivered twice (inbox)', async () => {
    await dataSource.query('CREATE TABLE IF NOT EXISTS inbox_effect (n int)');
    const event = { id: '12345' };
    const apply = (manager: import('typeorm').EntityManager) => manager.query('INSERT INTO inbox_effect VALUES (1)');
    expect(await processOnce(dataSource, 'test-consumer', event, apply)).toBe(true);
    expect(await processOnce(dataSource, 'test-consumer', event, apply)).toBe(false);
    expect(await processOnce(dataSource, 'other-consumer', event, apply)).toBe(true);
    expect((await dataSource.query('SELECT count(*)::int AS n FROM inbox_effect'))[0].n).toBe(2);
  });
});
