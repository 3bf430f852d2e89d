import { NatsConnection, connect } from 'nats';

export interface NatsConnectOptions {
  url: string;
  name: string;
  /** How long start-up waits for a first connection before failing. */
  connectTimeoutMs?: number;
}

/** Connects and keeps reconnecting for ever: a NATS restart must not kill the service. */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const servers = options.url.split(',').map((server) => server.trim());
  const deadline = Date.now() + (options.connectTimeoutMs ?? 30_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await connect({
        servers,
        name: options.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        pingInterval: 10_000,
      });
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`could not connect to NATS at ${options.url}: ${(lastError as Error)?.message ?? lastError}`);
}

/** Round trip to the server, bounded: a connection that is reconnecting is not ready. */
export async function checkNats(nc: NatsConnection, timeoutMs = 1000): Promise<void> {
  if (nc.isClosed()) throw new Error('connection closed');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      nc.flush(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the NATS server within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
