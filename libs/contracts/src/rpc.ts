/**
 * Request/reply subjects between services (core NATS with queue groups).
 * On the wire: `<namespace>.rpc.v1.<subject>`.
 */
export const RpcSubjects = {
  /** Any service: answers with its name and instance id (used by health tooling). */
  Ping: 'platform.ping',
} as const;

export type RpcSubject = (typeof RpcSubjects)[keyof typeof RpcSubjects];

export interface RpcContracts {
  'platform.ping': { request: { from: string }; response: { service: string; instance: string } };
}

/** Body of a failed reply (sent with header `Odb-Rpc-Status: error`). */
export interface RpcErrorReply {
  code: number;
  message: string;
  details?: unknown;
}

export function rpcWireSubject(namespace: string, subject: string): string {
  return `${namespace}.rpc.v1.${subject}`;
}
