export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const EVENT_HANDLER_METADATA = 'odb:event-handler';
export const RPC_HANDLER_METADATA = 'odb:rpc-handler';
export const BROADCAST_HANDLER_METADATA = 'odb:broadcast-handler';

export interface MessagingModuleOptions {
  /** Service name: the event source, the RPC queue group and the prefix of durable consumer names. */
  serviceName: string;
  natsUrl: string;
  /** Namespace of streams and subjects (a deployment, or one test file). */
  namespace: string;
  /** Run the outbox relay in this process (default true). */
  relay?: boolean;
  eventRetentionDays?: number;
}
