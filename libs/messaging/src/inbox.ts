import { DataSource, EntityManager } from 'typeorm';
import { DomainEvent } from '@odb/contracts';

/**
 * Exactly-once effects over at-least-once delivery: the handler's writes and
 * the record that the event was processed commit together, and an event seen
 * before is skipped. Returns false when the event had already been processed.
 */
export async function processOnce(
  dataSource: DataSource,
  consumer: string,
  event: Pick<DomainEvent, 'id'>,
  apply: (manager: EntityManager) => Promise<void>,
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO processed_event (consumer, event_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [consumer, event.id],
    );
    if (inserted.length === 0) return false;
    await apply(manager);
    return true;
  });
}
