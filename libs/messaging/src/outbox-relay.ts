import { DataSource } from 'typeorm';
import { JetStreamClient } from 'nats';
import { DomainEvent, EventSubject, wireSubject } from '@odb/contracts';
import { json, errorMessage } from './codec';
import { MessagingMetrics } from './metrics';
import { EventOutbox } from './outbox';

export interface OutboxRow {
  id: string;
  subject: EventSubject;
  payload: unknown;
  source: string;
  occurredAt: Date;
}

/** Puts claimed outbox rows on the bus; resolves once the bus has stored every one. */
export interface OutboxPublisher {
  publish(rows: OutboxRow[]): Promise<void>;
}

export class JetStreamOutboxPublisher implements OutboxPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly namespace: string,
  ) {}

  async publish(rows: OutboxRow[]): Promise<void> {
    // Sent back to back on one connection, so the stream keeps the outbox order.
    await Promise.all(
      rows.map((row) => {
        const event: DomainEvent = {
          id: row.id,
          subject: row.subject,
          occurredAt: row.occurredAt.toISOString(),
          source: row.source,
          payload: row.payload as never,
        };
        return this.js.publish(wireSubject(this.namespace, row.subject), json.encode(event), { msgID: row.id });
      }),
    );
  }
}

export interface OutboxRelayOptions {
  /** The outbox whose commits wake the relay at once (this process's writers). */
  wakeOn?: EventOutbox;
  batchSize?: number;
  /** How often the relay looks anyway: rows that no wake-up announced (their writer died right after committing). */
  pollIntervalMs?: number;
  log?: (level: 'warn' | 'error', message: string) => void;
  metrics?: MessagingMetrics;
}

/**
 * Moves committed outbox rows to JetStream. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so any number of relays (one per replica) share the
 * work, and deleted in the same transaction once JetStream acknowledged them.
 * A crash after publishing and before deleting publishes the row again with
 * the same message id, which JetStream drops as a duplicate.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private stopWaking?: () => void;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private wakeRequested = false;
  private stopped = true;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: OutboxPublisher,
    private readonly options: OutboxRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.stopWaking = this.options.wakeOn?.onCommitted(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.wake();
  }

  /** Stops waking up, finishes the batch in flight, then publishes what is left once more. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.stopWaking?.();
    await this.draining;
    await this.drainAll().catch((error) => this.options.log?.('warn', `final outbox drain failed: ${errorMessage(error)}`));
  }

  wake(): void {
    if (this.draining) {
      this.wakeRequested = true;
      return;
    }
    this.draining = this.drainAll()
      .then(() => undefined)
      .catch((error) => this.options.log?.('error', `outbox relay: ${errorMessage(error)}`))
      .finally(() => {
        this.draining = undefined;
        if (this.wakeRequested && !this.stopped) {
          this.wakeRequested = false;
          this.wake();
        }
      });
  }

  /** Publishes batches until the outbox is empty. */
  async drainAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.drainOnce();
      total += published;
      if (published < this.batchSize) return total;
    }
  }

  /** Claims, publishes and deletes one batch; returns how many rows it published. */
  async drainOnce(): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const rows: Array<{ id: string; subject: EventSubject; payload: unknown; source: string; occurred_at: Date }> =
        await runner.query(
          `SELECT id, subject, payload, source, occurred_at FROM outbox_event
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [this.batchSize],
        );
      if (rows.length === 0) {
        await runner.commitTransaction();
        return 0;
      }
      await this.publisher.publish(
        rows.map((row) => ({
          id: String(row.id),
          subject: row.subject,
          payload: row.payload,
          source: row.source,
          occurredAt: row.occurred_at,
        })),
      );
      await runner.query(`DELETE FROM outbox_event WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
      await runner.commitTransaction();
      this.options.metrics?.published.inc(rows.length);
      return rows.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
