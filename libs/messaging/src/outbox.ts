import { EntityManager } from 'typeorm';
import { EventPayloads, EventSubject } from '@odb/contracts';

export interface PendingEvent<S extends EventSubject = EventSubject> {
  subject: S;
  payload: EventPayloads[S];
}

/**
 * Writes domain events into the outbox table inside the caller's transaction:
 * the event exists if and only if the change it describes was committed.
 */
export class EventOutbox {
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
    return rows.map((row) => String(row.id));
  }
}

function assertInTransaction(manager: EntityManager): void {
  if (!manager.queryRunner?.isTransactionActive) {
    // Outside a transaction the event could be committed without its change, or the reverse.
    throw new Error('EventOutbox.append must be called with the EntityManager of an open transaction');
  }
}
