import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type PublicationStatus = 'waiting' | 'running' | 'done' | 'error' | 'deleting';
export type PublicationVisibility = 'public' | 'private';

/** One line of a publication's last run, as shown by the API. */
export interface PublicationLogEntry {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

/**
 * An entity type published to a remote catalog. The coordinator owns the
 * configuration (organization, visibility) and asks for deletion; the catalog
 * publisher owns the state (status, remote ids, versions, lease, log).
 */
@Entity({ name: 'publication' })
export class PublicationEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** Not a foreign key: the publication outlives its entity type until the remote dataset is deleted. */
  @Column({ name: 'entity_type_slug', type: 'varchar', length: 32 })
  entityTypeSlug: string;

  @Column({ name: 'remote_catalog_id', type: 'integer' })
  remoteCatalogId: number;

  /** Remote organization to publish as; null uses the remote catalog's. */
  @Column({ type: 'varchar', length: 256, nullable: true })
  organization: string | null;

  @Column({ type: 'text', default: 'public' })
  visibility: PublicationVisibility;

  @Column({ type: 'text', default: 'waiting' })
  status: PublicationStatus;

  @Column({ name: 'remote_id', type: 'text', nullable: true })
  remoteId: string | null;

  @Column({ name: 'remote_url', type: 'text', nullable: true })
  remoteUrl: string | null;

  /** Platform resource key → remote resource id, kept stable across pushes. */
  @Column({ name: 'resource_ids', type: 'jsonb', default: {} })
  resourceIds: Record<string, string>;

  /** Bumped by every change that concerns the publication (exactly once per event). */
  @Column({ name: 'requested_version', type: 'integer', default: 1 })
  requestedVersion: number;

  /** The requested version the last successful push carried. */
  @Column({ name: 'pushed_version', type: 'integer', nullable: true })
  pushedVersion: number | null;

  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_log', type: 'jsonb', default: [] })
  lastLog: PublicationLogEntry[];

  /** Held by the push in progress; an expired lease is a push that crashed. */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  /** A failed push is not retried before this (backoff, Retry-After). */
  @Column({ name: 'retry_at', type: 'timestamptz', nullable: true })
  retryAt: Date | null;

  @Column({ name: 'last_run_at', type: 'timestamptz', nullable: true })
  lastRunAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
