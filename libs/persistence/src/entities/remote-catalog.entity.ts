import { Column, Entity } from 'typeorm';
import { SluggedResource } from './slugged-resource';

/** A remote catalog (CKAN, udata, DCAT…) the platform harvests from or publishes to. */
@Entity({ name: 'remote_catalog' })
export class RemoteCatalogEntity extends SluggedResource {
  /** An adapter kind of libs/catalog-connectors (ckan, udata, dcat). */
  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'varchar', length: 256, nullable: true })
  organization: string | null;

  /** The API key sealed with SecretBox (AES-256-GCM under SECRETS_KEY); never returned by the API. */
  @Column({ name: 'api_key_sealed', type: 'text', nullable: true })
  apiKeySealed: string | null;
}
