import { EntityTypeEntity } from '@odb/persistence';
import { ResourceUrls } from '@odb/platform';

export function entityTypeBrief(urls: ResourceUrls, type: EntityTypeEntity) {
  return {
    id: type.slug,
    url: urls.to('entity', type.slug),
    name: type.name,
    description: type.description,
    icon: type.icon,
    tags: type.tags,
  };
}

export function entityTypeFull(urls: ResourceUrls, type: EntityTypeEntity) {
  return { ...entityTypeBrief(urls, type), schema: type.schema, timeseries: type.timeseries };
}
