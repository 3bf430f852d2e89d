import { SetMetadata } from '@nestjs/common';
import { EventSubject } from '@odb/contracts';
import { BROADCAST_HANDLER_METADATA, EVENT_HANDLER_METADATA, RPC_HANDLER_METADATA } from './tokens';

export interface EventHandlerOptions {
  /** Durable consumer name; defaults to `<service>.<Class>.<method>`. Renaming it starts a new consumer. */
  consumer?: string;
  maxAttempts?: number;
  backoffMs?: number[];
  /**
   * Run the handler in a transaction that also records the event id, and skip
   * events already processed. The handler then gets the transaction's
   * EntityManager as its second argument.
   */
  idempotent?: boolean;
}

export interface EventHandlerMetadata {
  subject: EventSubject;
  options: EventHandlerOptions;
}

/** Marks a provider method as the handler of a domain event (durable JetStream consumer). */
export const OnDomainEvent = (subject: EventSubject, options: EventHandlerOptions = {}) =>
  SetMetadata<string, EventHandlerMetadata>(EVENT_HANDLER_METADATA, { subject, options });

/** Marks a provider method as the responder of a request/reply subject. */
export const OnRpcRequest = (subject: string) => SetMetadata(RPC_HANDLER_METADATA, subject);

/**
 * Marks a provider method that every replica must see for each event (cache
 * invalidation), unlike `@OnDomainEvent` whose durable consumer hands each
 * event to one replica. Best effort: no ack, no replay of what a replica missed
 * while disconnected, so use it only where a bounded staleness is acceptable.
 */
export const OnDomainEventBroadcast = (subject: EventSubject) => SetMetadata(BROADCAST_HANDLER_METADATA, subject);
