import { DataSource } from 'typeorm';
import { connect } from 'nats';
import { EventSubjects } from '@odb/contracts';
import { DurableEventConsumer, EventOutbox, EventTopology, JetStreamOutboxPublisher, OutboxRelay } from '@odb/messaging';
import { dataSourceOptions } from '@odb/persistence';
import { Benchmark, percentile, target } from './harness';

/**
 * Events committed through the outbox → relayed to JetStream → handled by a
 * durable consumer: throughput and commit-to-handler latency.
 */
export const outboxRelayBenchmark: Benchmark = {
  name: 'outbox-relay',
  description: '20,000 events in 200 transactions of 100, relayed and consumed',
  async run(context) {
    const dataSource = await new DataSource(dataSourceOptions({ url: context.databaseUrl, poolSize: 4 })).initialize();
    const nc = await connect({ servers: context.natsUrl });
    const jsm = await nc.jetstreamManager();
    const topology = new EventTopology(context.id);
    await topology.ensureStreams(jsm);
    const latencies: number[] = [];
    let received = 0;
    const consumer = new DurableEventConsumer(nc.jetstream(), jsm, topology, {
      name: 'bench',
      subject: EventSubjects.EntityTypeUpdated,
      handler: async (event) => {
        received += 1;
        latencies.push(Date.now() - Number((event.payload as { changed: string[] }).changed[0]));
      },
    });
    await consumer.start();
    const outbox = new EventOutbox('bench');
    outbox.watch(dataSource);
    const relay = new OutboxRelay(dataSource, new JetStreamOutboxPublisher(nc.jetstream(), context.id), { wakeOn: outbox, batchSize: 500 });
    await relay.start();
    const total = 20_000;
    const perTransaction = 100;
    const started = Date.now();
    for (let i = 0; i < total / perTransaction; i += 1) {
      await dataSource.transaction((manager) =>
        outbox.appendMany(
          manager,
          Array.from({ length: perTransaction }, (_, j) => ({
            subject: EventSubjects.EntityTypeUpdated,
            payload: { entityTypeId: `type-${i}-${j}`, changed: [String(Date.now())] },
          })),
        ),
      );
    }
    while (received < total) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (Date.now() - started) / 1000;
    await relay.stop();
    await consumer.stop();
    await jsm.streams.delete(topology.eventStream);
    await jsm.streams.delete(topology.deadLetterStream);
    await nc.close();
    await dataSource.destroy();
    const figures = {
      events_per_second: { value: Math.round(total / seconds), unit: 'events/s' },
      latency_p50: { value: percentile(latencies, 50), unit: 'ms' },
      latency_p99: { value: percentile(latencies, 99), unit: 'ms' },
    };
    return { name: this.name, figures, targets: [target(figures, 'events_per_second', '>=', 2000)] };
  },
};
