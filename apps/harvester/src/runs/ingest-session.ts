import { ContributedRecord, MAX_RPC_BATCH, RpcContracts, SessionModeName } from '@odb/contracts';
import { RpcError } from '@odb/messaging';

/** What the harvester needs of an RPC client (the messaging RpcClient, or a test double). */
export interface RpcCaller {
  call<S extends keyof RpcContracts>(subject: S, body: RpcContracts[S]['request'], options?: { timeoutMs?: number }): Promise<RpcContracts[S]['response']>;
}

/** A record the ingest service refused, with its reasons. */
export interface RejectedRecord {
  record: ContributedRecord;
  reason: string;
}

const TRANSIENT = new Set([503, 504]);
const RETRY_DELAYS_MS = [250, 1_000, 3_000];

/**
 * A contribution session on a connector the harvester writes under, over
 * NATS (ingest.session.*). Batches of up to MAX_RPC_BATCH records. A batch
 * refused because of some of its records (400 with indexes) is sent again
 * without them, so one bad record never costs the others; transient failures
 * (no responder, timeout) are retried; anything else is thrown.
 */
export class IngestSession {
  private constructor(
    private readonly rpc: RpcCaller,
    readonly contributionId: string,
    readonly sessionId: string,
    private readonly timeoutMs: number,
  ) {}

  static async open(rpc: RpcCaller, contributionId: string, mode: SessionModeName, timeoutMs: number): Promise<IngestSession> {
    const { sessionId } = await retrying(() => rpc.call('ingest.session.open', { contributionId, mode }, { timeoutMs }));
    return new IngestSession(rpc, contributionId, sessionId, timeoutMs);
  }

  /** Upserts records (any number, sent in batches); returns those refused, with why. */
  async upsert(records: ContributedRecord[]): Promise<RejectedRecord[]> {
    const rejected: RejectedRecord[] = [];
    for (let start = 0; start < records.length; start += MAX_RPC_BATCH) {
      rejected.push(...(await this.upsertBatch(records.slice(start, start + MAX_RPC_BATCH))));
    }
    return rejected;
  }

  async delete(vendorIds: string[]): Promise<void> {
    for (let start = 0; start < vendorIds.length; start += MAX_RPC_BATCH) {
      const records = vendorIds.slice(start, start + MAX_RPC_BATCH);
      await retrying(() =>
        this.rpc.call('ingest.session.write', { contributionId: this.contributionId, sessionId: this.sessionId, action: 'delete', records }, { timeoutMs: this.timeoutMs }),
      );
    }
  }

  /** Commits (true) or discards (false); the number of buffered operations applied. */
  async close(commit: boolean): Promise<number> {
    const { applied } = await retrying(() =>
      this.rpc.call('ingest.session.close', { contributionId: this.contributionId, sessionId: this.sessionId, commit }, { timeoutMs: this.timeoutMs }),
    );
    return applied;
  }

  private async upsertBatch(records: ContributedRecord[]): Promise<RejectedRecord[]> {
    try {
      await this.write(records);
      return [];
    } catch (error) {
      const reasons = error instanceof RpcError && error.code === 400 ? reasonsByIndex(error.details) : undefined;
      if (!reasons || reasons.size === 0) throw error;
      const rejected = [...reasons].filter(([index]) => index < records.length).map(([index, reason]) => ({ record: records[index], reason }));
      const accepted = records.filter((_, index) => !reasons.has(index));
      if (rejected.length === 0) throw error;
      if (accepted.length > 0) await this.write(accepted);
      return rejected;
    }
  }

  private write(records: ContributedRecord[]) {
    return retrying(() =>
      this.rpc.call(
        'ingest.session.write',
        { contributionId: this.contributionId, sessionId: this.sessionId, action: 'upsert', records },
        { timeoutMs: this.timeoutMs },
      ),
    );
  }
}

/** `[{name, index, reason}]` of a 400 → index → "name: reason; …". */
function reasonsByIndex(details: unknown): Map<number, string> | undefined {
  if (!Array.isArray(details)) return undefined;
  const reasons = new Map<number, string>();
  for (const detail of details as Array<{ name?: string; index?: number | null; reason?: string }>) {
    if (typeof detail?.index !== 'number') return undefined;
    const text = `${detail.name ?? 'record'}: ${detail.reason ?? 'invalid'}`;
    reasons.set(detail.index, reasons.has(detail.index) ? `${reasons.get(detail.index)}; ${text}` : text);
  }
  return reasons;
}

/** Retries calls that failed for want of a responder or a reply in time (writes are idempotent upserts and deletes). */
async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RpcError) || !TRANSIENT.has(error.code) || attempt >= RETRY_DELAYS_MS.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
    }
  }
}
