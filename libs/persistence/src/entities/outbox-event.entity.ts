import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A domain event written in the same transaction as the change it describes,
 * waiting for the relay to put it on JetStream. Rows are deleted once published.
 */
@Entity({ name: 'outbox_event' })
export class OutboxEventEntity {
  /** bigint: kept as a string so JavaScript never rounds it. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'jsonb' })
  payload: unknown;

  @Column({ type: 'text' })
  source: string;

  @CreateDateColumn({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;
}
