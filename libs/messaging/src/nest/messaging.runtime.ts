import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { NatsConnection, Subscription } from 'nats';
import { DomainEvent, EventSubject, wireSubject } from '@odb/contracts';
import { json, errorMessage } from '../codec';
import { DurableEventConsumer, EventHandlerFn } from '../event-consumer';
import { processOnce } from '../inbox';
import { MessagingMetrics } from '../metrics';
import { EventOutbox } from '../outbox';
import { JetStreamOutboxPublisher, OutboxRelay } from '../outbox-relay';
import { RpcServer } from '../rpc';
import { EventTopology } from '../topology';
import { EventHandlerMetadata } from './decorators';
import {
  BROADCAST_HANDLER_METADATA,
  EVENT_HANDLER_METADATA,
  MESSAGING_OPTIONS,
  MessagingModuleOptions,
  NATS_CONNECTION,
  RPC_HANDLER_METADATA,
} from './tokens';

/**
 * Wires the event backbone into the Nest lifecycle: finds decorated handlers at
 * boot (failing on duplicates), starts their durable consumers, the RPC
 * responders and the outbox relay, and stops them in reverse order on shutdown
 * so that in-flight messages finish and nothing committed stays unpublished.
 */
@Injectable()
export class MessagingRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private readonly topology: EventTopology;
  private readonly metrics = new MessagingMetrics();
  private readonly consumers: DurableEventConsumer[] = [];
  private readonly broadcasts: Subscription[] = [];
  private rpcServer?: RpcServer;
  private relay?: OutboxRelay;

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {
    this.topology = new EventTopology(options.namespace);
  }

  async onApplicationBootstrap(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await this.topology.ensureStreams(jsm, { eventRetentionDays: this.options.eventRetentionDays });
    const js = this.nc.jetstream();
    const log = (level: 'warn' | 'error', message: string) => this.logger[level](message);

    const { events, rpc, broadcasts } = this.discoverHandlers();
    for (const { subject, handler } of broadcasts) {
      this.broadcasts.push(
        // A plain subscription: JetStream-stored messages reach core subscribers too, on every replica.
        this.nc.subscribe(wireSubject(this.options.namespace, subject), {
          callback: (error, message) => {
            if (error) return;
            handler(json.decode(message.data) as DomainEvent).catch((failure: unknown) =>
              this.logger.warn(`broadcast handler for ${subject} failed: ${errorMessage(failure)}`),
            );
          },
        }),
      );
    }
    for (const { name, metadata, handler } of events) {
      const consumer = new DurableEventConsumer(js, jsm, this.topology, {
        name,
        subject: metadata.subject,
        handler,
        maxAttempts: metadata.options.maxAttempts,
        backoffMs: metadata.options.backoffMs,
        log,
        metrics: this.metrics,
      });
      await consumer.start();
      this.consumers.push(consumer);
    }
    if (rpc.length > 0) {
      this.rpcServer = new RpcServer(this.nc, this.options.namespace, this.options.serviceName);
      for (const { subject, handler } of rpc) this.rpcServer.register(subject, handler);
    }
    if (this.options.relay !== false) {
      // Each commit that wrote events wakes this relay at once.
      this.outbox.watch(this.dataSource);
      this.relay = new OutboxRelay(this.dataSource, new JetStreamOutboxPublisher(js, this.options.namespace), {
        wakeOn: this.outbox,
        log,
        metrics: this.metrics,
      });
      await this.relay.start();
    }
    this.logger.log(
      `event backbone up: ${events.length} consumer(s), ${broadcasts.length} broadcast handler(s), ${rpc.length} RPC responder(s), relay ${this.relay ? 'on' : 'off'}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const subscription of this.broadcasts) subscription.unsubscribe();
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await this.rpcServer?.close();
    await this.relay?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  private discoverHandlers() {
    const events: Array<{ name: string; metadata: EventHandlerMetadata; handler: EventHandlerFn }> = [];
    const rpc: Array<{ subject: string; handler: (request: unknown) => Promise<unknown> }> = [];
    const broadcasts: Array<{ subject: EventSubject; handler: (event: DomainEvent) => Promise<void> }> = [];
    const seen = new Set<string>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = prototype[method];
        const metadata = this.reflector.get<EventHandlerMetadata | undefined>(EVENT_HANDLER_METADATA, target);
        if (metadata) {
          const name = metadata.options.consumer ?? `${this.options.serviceName}.${prototype.constructor.name}.${method}`;
          if (seen.has(name)) throw new Error(`two event handlers share the consumer name "${name}"`);
          seen.add(name);
          const call = (target as (...args: unknown[]) => Promise<void>).bind(instance);
          const handler: EventHandlerFn = metadata.options.idempotent
            ? async (event, context) => {
                await processOnce(this.dataSource, name, event, (manager) => call(event, manager, context));
              }
            : (event, context) => call(event, context);
          events.push({ name, metadata, handler });
        }
        const rpcSubject = this.reflector.get<string | undefined>(RPC_HANDLER_METADATA, target);
        if (rpcSubject) {
          if (seen.has(`rpc:${rpcSubject}`)) throw new Error(`two RPC handlers answer "${rpcSubject}"`);
          seen.add(`rpc:${rpcSubject}`);
          rpc.push({ subject: rpcSubject, handler: (target as (request: unknown) => Promise<unknown>).bind(instance) });
        }
        const broadcastSubject = this.reflector.get<EventSubject | undefined>(BROADCAST_HANDLER_METADATA, target);
        if (broadcastSubject) {
          broadcasts.push({ subject: broadcastSubject, handler: (target as (event: DomainEvent) => Promise<void>).bind(instance) });
        }
      }
    }
    return { events, rpc, broadcasts };
  }
}
