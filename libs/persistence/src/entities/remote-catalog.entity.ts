import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A remote catalog (CKAN, udata, DCAT…) the platform harvests from or publishes to. */
@Entity({ name: 'remote_catalog' })
export class RemoteCatalogEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 32, unique: true })
  slug: string;

  /** An adapter kind of libs/catalog-connectors (ckan, udata, dcat). */
  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 2048, default: '' })
  description: string;

  @Column({ type: 'varchar', length: 256, nullable: true })
  organization: string | null;

  /** The API key sealed with SecretBox (AES-256-GCM under SECRETS_KEY); never returned by the API. */
  @Column({ name: 'api_key_sealed', type: 'text', nullable: true })
  apiKeySealed: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
