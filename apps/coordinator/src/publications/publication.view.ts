import { PublicationEntity } from '@odb/persistence';
import { ResourceUrls } from '@odb/platform';

/** A publication with the slug and kind of its remote catalog. */
export interface PublicationWithCatalog {
  publication: PublicationEntity;
  catalogSlug: string;
  catalogType: string;
}

/** What the API shows of a publication: configuration and state, never a credential. */
export function publicationView(urls: ResourceUrls, { publication, catalogSlug, catalogType }: PublicationWithCatalog) {
  return {
    id: catalogSlug,
    url: urls.to('entity', publication.entityTypeSlug, 'publication', catalogSlug),
    entity: { id: publication.entityTypeSlug, url: urls.to('entity', publication.entityTypeSlug) },
    remote_catalog: { id: catalogSlug, url: urls.to('remote-catalog', catalogSlug), type: catalogType },
    organization: publication.organization,
    visibility: publication.visibility,
    status: publication.status,
    remote_id: publication.remoteId,
    remote_url: publication.remoteUrl,
    last_success: publication.lastSuccessAt?.toISOString() ?? null,
    last_run: publication.lastRunAt?.toISOString() ?? null,
    last_error: publication.lastError,
    log: publication.lastLog ?? [],
  };
}
