import { Counter, Registry, register as defaultRegistry } from 'prom-client';

/** Counters of the event backbone, exposed with the service's other metrics at /metrics. */
export class MessagingMetrics {
  readonly published: Counter;
  readonly handled: Counter<'consumer' | 'outcome'>;

  constructor(registry: Registry = defaultRegistry) {
    this.published = getOrCreate(registry, 'odb_outbox_events_published_total', () =>
      new Counter({ name: 'odb_outbox_events_published_total', help: 'Outbox events relayed to JetStream', registers: [registry] }),
    );
    this.handled = getOrCreate(registry, 'odb_events_handled_total', () =>
      new Counter({
        name: 'odb_events_handled_total',
        help: 'Events delivered to a durable consumer, by outcome (ok, retried, dead-lettered)',
        labelNames: ['consumer', 'outcome'],
        registers: [registry],
      }),
    );
  }
}

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
