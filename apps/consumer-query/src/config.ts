import { RestServiceConfig, WithRedis } from '@odb/platform';

export class ConsumerQueryConfig extends WithRedis(RestServiceConfig) {
  override PORT = 8003;
}
