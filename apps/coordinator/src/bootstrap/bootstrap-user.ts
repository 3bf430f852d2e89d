import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { mkdirSync, writeFileSync } from 'fs';
import { dirname, resolve } from 'path';
import { DataSource } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { UserEntity } from '@odb/persistence';
import { SERVICE_CONFIG } from '@odb/platform';
import { CoordinatorConfig } from '../config';

/**
 * On the first start of a fresh install (the users sequence never used), creates
 * user 1 from BOOTSTRAP_USER_* with a coordinator key, and writes its token to
 * BOOTSTRAP_TOKEN_FILE (mode 0600). The token is never logged.
 */
@Injectable()
export class BootstrapUser implements OnApplicationBootstrap {
  private readonly logger = new Logger('BootstrapUser');

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: AuthKeyStore,
    private readonly outbox: EventOutbox,
    @Inject(SERVICE_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const tokenFile = resolve(this.config.BOOTSTRAP_TOKEN_FILE);
    const created = await this.dataSource.transaction(async (manager) => {
      // Replicas starting together: one bootstraps, the others wait and see it done.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('odb.bootstrap-user'))`);
      const [{ is_called: used }] = await manager.query(`SELECT is_called FROM users_id_seq`);
      if (used) return false;
      const key = await this.keys.issue(manager, 'coordinator', '');
      const { identifiers } = await manager.insert(UserEntity, {
        email: this.config.BOOTSTRAP_USER_EMAIL.toLowerCase(),
        name: this.config.BOOTSTRAP_USER_NAME,
        organization: this.config.BOOTSTRAP_USER_ORG,
        addendum: {},
        coordinatorKeyId: key.keyId,
      });
      await this.outbox.append(manager, EventSubjects.UserCreated, { userId: identifiers[0].id as number });
      await this.outbox.append(manager, EventSubjects.UserPromoted, { userId: identifiers[0].id as number });
      // Written before commit: if the file cannot be written, nothing is created and start-up fails.
      mkdirSync(dirname(tokenFile), { recursive: true, mode: 0o700 });
      writeFileSync(tokenFile, `${key.token}\n`, { mode: 0o600 });
      return true;
    });
    if (created) {
      this.logger.log(`bootstrap user 1 (${this.config.BOOTSTRAP_USER_EMAIL}) created; coordinator token written to ${tokenFile}`);
    }
  }
}
