import { IsIn, IsInt, Min } from 'class-validator';
import { AsInteger, RestServiceConfig, WithRedis } from '@odb/platform';

export class ConsumerQueryConfig extends WithRedis(RestServiceConfig) {
  override PORT = 8003;

  /**
   * `enforced`: a consumer key is required, its policy applies, and the policy's
   * rate and quota are counted. `local`: BitBroker's local/dev mode, where the
   * policy is named by `x-bbk-audience` and nothing is counted.
   */
  @IsIn(['enforced', 'local'])
  AUTH_MODE: 'enforced' | 'local' = 'enforced';

  /** Timeout of calls to connector webhooks (instance details and timeseries). */
  @AsInteger()
  @IsInt()
  @Min(1)
  WEBHOOK_TIMEOUT_MS = 2000;

  /** How long a policy read from the database is used before reading it again (updates also arrive as events). */
  @AsInteger()
  @IsInt()
  @Min(0)
  POLICY_CACHE_MS = 10_000;
}
