export * from './events';
export * from './event-schemas';
export * from './queues';
export * from './rpc';
export * from './harvest';
export * from './identity';
