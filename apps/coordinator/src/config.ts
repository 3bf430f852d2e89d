import { RestServiceConfig } from '@odb/platform';

export class CoordinatorConfig extends RestServiceConfig {
  override PORT = 8001;
}
