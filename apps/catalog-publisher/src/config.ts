import { ServiceConfig, WithRedis } from '@odb/platform';

export class CatalogPublisherConfig extends WithRedis(ServiceConfig) {
  override PORT = 8005;
}
