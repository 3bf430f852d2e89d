import { MsgHdrs, NatsConnection, Subscription, headers } from 'nats';
import { RpcContracts, rpcWireSubject } from '@odb/contracts';
import { json, errorMessage } from './codec';

const STATUS_HEADER = 'Odb-Rpc-Status';

/** An error answered by the remote handler (or a timeout), with an HTTP-like code. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export type RpcHandlerFn = (request: any) => Promise<unknown>;

/** Serves request/reply subjects; replicas share the load through a queue group. */
export class RpcServer {
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
    private readonly queueGroup: string,
  ) {}

  register(subject: string, handler: RpcHandlerFn): void {
    const subscription = this.nc.subscribe(rpcWireSubject(this.namespace, subject), {
      queue: this.queueGroup,
      callback: (error, message) => {
        if (error) return;
        const work = (async () => {
          const reply = headers();
          try {
            const result = await handler(json.decode(message.data));
            reply.set(STATUS_HEADER, 'ok');
            message.respond(json.encode(result ?? null), { headers: reply });
          } catch (failure) {
            reply.set(STATUS_HEADER, 'error');
            const code = failure instanceof RpcError ? failure.code : 500;
            const details = failure instanceof RpcError ? failure.details : undefined;
            message.respond(json.encode({ code, message: errorMessage(failure), details }), { headers: reply });
          }
        })();
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
    });
    this.subscriptions.push(subscription);
  }

  /** Stops taking requests and waits for the ones being answered. */
  async close(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
  }
}

export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
  ) {}

  /** Typed request for the subjects listed in `RpcContracts`. */
  call<S extends keyof RpcContracts>(
    subject: S,
    body: RpcContracts[S]['request'],
    options?: { timeoutMs?: number },
  ): Promise<RpcContracts[S]['response']> {
    return this.request(subject, body, options);
  }

  async request<Res>(subject: string, body: unknown, options: { timeoutMs?: number } = {}): Promise<Res> {
    let message;
    try {
      message = await this.nc.request(rpcWireSubject(this.namespace, subject), json.encode(body), {
        timeout: options.timeoutMs ?? 10_000,
      });
    } catch (error) {
      const text = errorMessage(error);
      if (text.includes('TIMEOUT')) throw new RpcError(504, `no reply to ${subject} in time`);
      if (text.includes('503') || text.includes('NO_RESPONDERS')) throw new RpcError(503, `nobody serves ${subject}`);
      throw error;
    }
    const decoded = json.decode(message.data);
    if (statusOf(message.headers) === 'error') {
      const failure = decoded as { code: number; message: string; details?: unknown };
      throw new RpcError(failure.code, failure.message, failure.details);
    }
    return decoded as Res;
  }
}

function statusOf(h: MsgHdrs | undefined): string | undefined {
  return h?.get(STATUS_HEADER) || undefined;
}
