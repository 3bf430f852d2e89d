import { ServiceConfig, WithRedis } from '@odb/platform';

export class HarvesterConfig extends WithRedis(ServiceConfig) {
  override PORT = 8004;
}
