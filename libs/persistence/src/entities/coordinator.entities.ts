import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { SluggedResource } from './slugged-resource';

export type KeyRole = 'coordinator' | 'contributor' | 'consumer';

/** A token's server side: only the hash of its secret is kept. Revoked keys stay, so their use answers 403. */
@Entity({ name: 'auth_key' })
export class AuthKeyEntity {
  @PrimaryColumn({ name: 'key_id', type: 'uuid' })
  keyId: string;

  @Column({ type: 'text' })
  role: KeyRole;

  /** '' for a coordinator, the contribution id for a contributor, the policy slug for a consumer. */
  @Column({ type: 'text' })
  context: string;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason: string | null;
}

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 256, unique: true })
  email: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 64 })
  organization: string;

  @Column({ type: 'jsonb', default: {} })
  addendum: Record<string, any>;

  @Column({ name: 'coordinator_key_id', type: 'uuid', nullable: true })
  coordinatorKeyId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export interface TimeseriesDefinition {
  period: string;
  value: string;
  unit: string;
}

@Entity({ name: 'entity_type' })
export class EntityTypeEntity extends SluggedResource {
  @Column({ type: 'jsonb', default: {} })
  schema: Record<string, any>;

  @Column({ type: 'jsonb', default: {} })
  timeseries: Record<string, TimeseriesDefinition>;

  @Column({ type: 'jsonb', default: [] })
  tags: string[];

  @Column({ type: 'varchar', length: 256, default: '' })
  icon: string;

  /** Publishing metadata (license, frequency, coverage…), beyond the BitBroker contract. */
  @Column({ name: 'dataset_metadata', type: 'jsonb', default: {} })
  datasetMetadata: Record<string, any>;

  /** Incremented on every change: a natural key for idempotent downstream effects. */
  @Column({ type: 'integer', default: 1 })
  version: number;
}

@Entity({ name: 'connector' })
export class ConnectorEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'entity_type_id', type: 'integer' })
  entityTypeId: number;

  @ManyToOne(() => EntityTypeEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'entity_type_id' })
  entityType?: EntityTypeEntity;

  @Column({ type: 'varchar', length: 32 })
  slug: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 2048 })
  description: string;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  webhook: string | null;

  @Column({ type: 'integer', default: 0 })
  cache: number;

  @Column({ name: 'contribution_id', type: 'char', length: 40, unique: true })
  contributionId: string;

  @Column({ name: 'key_id', type: 'uuid', unique: true })
  keyId: string;

  @Column({ name: 'is_live', type: 'boolean', default: false })
  isLive: boolean;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @Column({ name: 'session_mode', type: 'text', nullable: true })
  sessionMode: 'stream' | 'accrue' | 'replace' | null;

  @Column({ name: 'session_started', type: 'timestamptz', nullable: true })
  sessionStarted: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export interface PolicyDocument {
  access_control: { enabled: boolean; quota?: { max_number?: number; interval_type?: 'day' | 'month' }; rate?: number };
  data_segment: { segment_query: Record<string, any>; field_masks?: string[] };
  legal_context: Array<{ type: string; text: string; link: string | null }>;
}

@Entity({ name: 'policy' })
export class PolicyEntity extends SluggedResource {
  @Column({ type: 'jsonb', default: [] })
  tags: string[];

  @Column({ type: 'jsonb' })
  policy: PolicyDocument;
}

@Entity({ name: 'access' })
export class AccessEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ name: 'policy_id', type: 'integer' })
  policyId: number;

  @ManyToOne(() => PolicyEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'policy_id' })
  policy?: PolicyEntity;

  @Column({ name: 'key_id', type: 'uuid', unique: true })
  keyId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
