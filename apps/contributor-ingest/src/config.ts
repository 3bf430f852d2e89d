import { IsIn } from 'class-validator';
import { RestServiceConfig } from '@odb/platform';

export class ContributorIngestConfig extends RestServiceConfig {
  override PORT = 8002;

  /** `enforced`: a contributor token of the connector is required; `local`: BitBroker's local/dev mode. */
  @IsIn(['enforced', 'local'])
  AUTH_MODE: 'enforced' | 'local' = 'enforced';
}
