import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { EventPayloads, EventSubject } from '@odb/contracts';

export interface PendingEvent<S extends EventSubject = EventSubject> {
  subject: S;
  payload: EventPayloads[S];
}

/** Where a transaction's query runner notes that it appended events (to announce once it commits). */
const APPENDED = 'odbOutboxAppended';

/**
 * Writes domain events into the outbox table inside the caller's transaction:
 * the event exists if and only if the change it describes was committed.
 *
 * Once such a transaction commits, the outbox says so to its listeners (the
 * relay of this process, which then publishes at once). A database
 * notification per write would do the same across processes, but PostgreSQL
 * serialises every committing transaction that notifies, fsync included: the
 * stream writes lost a tenth of their rate to it. A row that no listener
 * picks up (its process died after the commit) is published by the next poll
 * of any relay.
 */
export class EventOutbox {
  private readonly listeners = new Set<() => void>();
  private readonly subscriber: EntitySubscriberInterface = {
    afterTransactionCommit: (event: TransactionCommitEvent) => this.settled(event.queryRunner, true),
    afterTransactionRollback: (event: TransactionRollbackEvent) => this.settled(event.queryRunner, false),
  };

  constructor(private readonly source: string) {}

  async append<S extends EventSubject>(manager: EntityManager, subject: S, payload: EventPayloads[S]): Promise<string> {
    const [id] = await this.appendMany(manager, [{ subject, payload }]);
    return id;
  }

  async appendMany(manager: EntityManager, events: PendingEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    assertInTransaction(manager);
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO outbox_event (subject, payload, source)
       SELECT e.subject, e.payload, $3 FROM unnest($1::text[], $2::jsonb[]) AS e(subject, payload)
       RETURNING id`,
      [events.map((e) => e.subject), events.map((e) => JSON.stringify(e.payload)), this.source],
    );
    manager.queryRunner!.data[APPENDED] = this;
    return rows.map((row) => String(row.id));
  }

  /** Announces the commits of the transactions of `dataSource` in which this outbox appended events. */
  watch(dataSource: DataSource): void {
    if (!dataSource.subscribers.includes(this.subscriber)) dataSource.subscribers.push(this.subscriber);
  }

  /** `listener` is called after each commit that wrote events (see `watch`, `committed`); returns its removal. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** For writers that insert outbox rows with their own SQL, outside a watched transaction: call once it committed. */
  committed(): void {
    for (const listener of this.listeners) listener();
  }

  private settled(runner: QueryRunner, committed: boolean): void {
    // Savepoints commit and roll back too: only the end of the outermost transaction counts.
    if (runner.isTransactionActive || runner.data?.[APPENDED] !== this) return;
    delete runner.data[APPENDED];
    if (committed) this.committed();
  }
}

function assertInTransaction(manager: EntityManager): void {
  if (!manager.queryRunner?.isTransactionActive) {
    // Outside a transaction the event could be committed without its change, or the reverse.
    throw new Error('EventOutbox.append must be called with the EntityManager of an open transaction');
  }
}
