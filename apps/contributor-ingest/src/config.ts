import { RestServiceConfig } from '@odb/platform';

export class ContributorIngestConfig extends RestServiceConfig {
  override PORT = 8002;
}
