import { IsEmail, IsIn, IsString, Length, MinLength, NotEquals, ValidateIf } from 'class-validator';
import { RestServiceConfig, WithRemoteCatalogs } from '@odb/platform';

const DEV_APP_SECRET = 'dev-only-app-secret';

export class CoordinatorConfig extends WithRemoteCatalogs(RestServiceConfig) {
  override PORT = 8001;

  /** `enforced`: every API call needs a token; `local`: BitBroker's local/dev mode, no tokens. */
  @IsIn(['enforced', 'local'])
  AUTH_MODE: 'enforced' | 'local' = 'enforced';

  /**
   * Secret in the contribution id hash `sha1(entity:connector:secret)`. It makes
   * ids unguessable and stable across re-creation; changing it changes every id.
   */
  @MinLength(8)
  @NotEquals(DEV_APP_SECRET, { message: 'APP_SECRET must be set to a secret of your own in production' })
  @ValidateIf((config: CoordinatorConfig) => config.NODE_ENV === 'production' || config.APP_SECRET !== DEV_APP_SECRET)
  APP_SECRET = DEV_APP_SECRET;

  /** The first user (id 1), created with a coordinator key on first start. */
  @Length(1, 64)
  BOOTSTRAP_USER_NAME = 'Admin';

  @IsEmail()
  BOOTSTRAP_USER_EMAIL = 'admin@localhost.localdomain';

  @Length(1, 64)
  BOOTSTRAP_USER_ORG = 'Open Data Broker';

  /** Where the bootstrap coordinator token is written (mode 0600) on first start. */
  @IsString()
  BOOTSTRAP_TOKEN_FILE = 'var/bootstrap-coordinator.token';
}
