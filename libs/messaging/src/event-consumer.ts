import { AckPolicy, ConsumerMessages, DeliverPolicy, JetStreamClient, JetStreamManager, JsMsg, headers, nanos } from 'nats';
import { DomainEvent, EventSubject, deadLetterSubject, wireSubject } from '@odb/contracts';
import { EventTopology } from './topology';
import { json, errorMessage } from './codec';
import { MessagingMetrics } from './metrics';

export interface EventHandlerContext {
  /** 1 on first delivery. */
  attempt: number;
}

export type EventHandlerFn<S extends EventSubject = EventSubject> = (
  event: DomainEvent<S>,
  context: EventHandlerContext,
) => Promise<void>;

export interface DurableConsumerOptions {
  /** Unique per deployment and handler, e.g. `catalog-publisher.entity-type-updated`. */
  name: string;
  subject: EventSubject;
  handler: EventHandlerFn<any>;
  /** Deliveries before the message goes to the dead-letter subject. */
  maxAttempts?: number;
  /** Delay before redelivery after the n-th failure (last value repeats). */
  backoffMs?: number[];
  ackWaitMs?: number;
  log?: (level: 'warn' | 'error', message: string) => void;
  metrics?: MessagingMetrics;
}

export const DEAD_LETTER_HEADERS = {
  consumer: 'Odb-Dlq-Consumer',
  subject: 'Odb-Dlq-Subject',
  attempts: 'Odb-Dlq-Attempts',
  reason: 'Odb-Dlq-Reason',
} as const;

/**
 * A JetStream durable pull consumer with explicit acks. A handler that throws
 * gets the message again after a back-off; after `maxAttempts` deliveries the
 * message is copied to the dead-letter subject and terminated. Messages
 * published while the consumer was down wait in the stream for it.
 */
export class DurableEventConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private readonly maxAttempts: number;
  private readonly backoffMs: number[];

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly topology: EventTopology,
    private readonly options: DurableConsumerOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? [200, 1000, 5000, 15000];
  }

  get durable(): string {
    return this.topology.durableName(this.options.name);
  }

  async start(): Promise<void> {
    const config = {
      durable_name: this.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: wireSubject(this.topology.namespace, this.options.subject),
      // One delivery more than the handler's attempts, so a message whose handler
      // crashed the process every time still reaches the dead-letter subject.
      max_deliver: this.maxAttempts + 1,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
    };
    try {
      await this.jsm.consumers.info(this.topology.eventStream, this.durable);
      await this.jsm.consumers.update(this.topology.eventStream, this.durable, config);
    } catch (error) {
      if (!String(errorMessage(error)).includes('not found')) throw error;
      await this.jsm.consumers.add(this.topology.eventStream, config);
    }
    const consumer = await this.js.consumers.get(this.topology.eventStream, this.durable);
    this.messages = await consumer.consume({ max_messages: 64 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const message of messages) await this.process(message);
    })().catch((error) => this.options.log?.('error', `consumer ${this.durable} stopped: ${errorMessage(error)}`));
  }

  /** Stops pulling; the message being handled finishes and is acked first. */
  async stop(): Promise<void> {
    const messages = this.messages;
    this.messages = undefined;
    if (!messages) return;
    messages.stop();
    await this.loop;
  }

  private async process(message: JsMsg): Promise<void> {
    const attempt = message.info.deliveryCount;
    let event: DomainEvent;
    try {
      event = json.decode(message.data) as DomainEvent;
    } catch (error) {
      return this.deadLetter(message, `undecodable message: ${errorMessage(error)}`, attempt);
    }
    if (attempt > this.maxAttempts) {
      return this.deadLetter(message, 'delivered more often than the attempt limit', attempt);
    }
    try {
      await this.options.handler(event, { attempt });
      message.ack();
      this.options.metrics?.handled.inc({ consumer: this.durable, outcome: 'ok' });
    } catch (error) {
      if (attempt >= this.maxAttempts) {
        this.options.log?.('error', `${this.durable}: event ${event.id} failed ${attempt} times: ${errorMessage(error)}`);
        return this.deadLetter(message, errorMessage(error), attempt);
      }
      this.options.log?.('warn', `${this.durable}: event ${event.id} failed (attempt ${attempt}), will retry: ${errorMessage(error)}`);
      message.nak(this.backoffMs[Math.min(attempt - 1, this.backoffMs.length - 1)]);
      this.options.metrics?.handled.inc({ consumer: this.durable, outcome: 'retried' });
    }
  }

  private async deadLetter(message: JsMsg, reason: string, attempts: number): Promise<void> {
    const h = headers();
    h.set(DEAD_LETTER_HEADERS.consumer, this.durable);
    h.set(DEAD_LETTER_HEADERS.subject, message.subject);
    h.set(DEAD_LETTER_HEADERS.attempts, String(attempts));
    h.set(DEAD_LETTER_HEADERS.reason, reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    try {
      await this.js.publish(deadLetterSubject(this.topology.namespace, this.durable), message.data, {
        headers: h,
        msgID: `${this.durable}:${message.info.streamSequence}`,
      });
      message.term();
      this.options.metrics?.handled.inc({ consumer: this.durable, outcome: 'dead-lettered' });
    } catch (error) {
      // Not stored in the dead-letter stream: leave the message to be redelivered.
      this.options.log?.('error', `${this.durable}: could not dead-letter message: ${errorMessage(error)}`);
      message.nak(this.backoffMs[this.backoffMs.length - 1]);
    }
  }
}
