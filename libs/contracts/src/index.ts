export * from './events';
export * from './event-schemas';
export * from './queues';
export * from './rpc';
