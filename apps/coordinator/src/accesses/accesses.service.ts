import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { AccessEntity, PolicyEntity } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { isUniqueViolation } from '../common/bbk-request';
import { UsersService } from '../users/users.service';

export interface AccessView {
  userId: number;
  policySlug: string;
  createdAt: Date;
}

/** Consumer keys: one per (user, policy), created, reissued (rotated) and deleted. */
@Injectable()
export class AccessesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly keys: AuthKeyStore,
    private readonly users: UsersService,
  ) {}

  async list(uid: string): Promise<AccessView[]> {
    const user = await this.users.find(this.dataSource.manager, UsersService.parseId(uid));
    const rows = await this.dataSource.getRepository(AccessEntity).find({
      where: { userId: user.id },
      relations: { policy: true },
      order: { id: 'ASC' },
    });
    return rows.map((row) => ({ userId: row.userId, policySlug: row.policy!.slug, createdAt: row.createdAt }));
  }

  async get(uid: string, policySlug: string): Promise<AccessView> {
    const { access } = await this.find(this.dataSource.manager, uid, policySlug);
    return { userId: access.userId, policySlug, createdAt: access.createdAt };
  }

  /** 201 with the consumer token. Policy checked first, then user, then duplicates (BitBroker's order). */
  async create(uid: string, policySlug: string): Promise<string> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const policy = await manager.findOneBy(PolicyEntity, { slug: policySlug });
        if (!policy) throw ApiError.notFound();
        const user = await this.users.find(manager, UsersService.parseId(uid));
        if (await manager.existsBy(AccessEntity, { userId: user.id, policyId: policy.id })) throw ApiError.conflict();
        const key = await this.keys.issue(manager, 'consumer', policySlug);
        await manager.insert(AccessEntity, { userId: user.id, policyId: policy.id, keyId: key.keyId });
        await this.outbox.append(manager, EventSubjects.AccessCreated, { userId: user.id, policyId: policySlug });
        return key.token;
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  /** A new token for the access; the old one answers 403 from now on. */
  async reissue(uid: string, policySlug: string): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const { access } = await this.find(manager, uid, policySlug, true);
      const key = await this.keys.issue(manager, 'consumer', policySlug);
      await manager.update(AccessEntity, { id: access.id }, { keyId: key.keyId });
      await this.keys.revoke(manager, [access.keyId], 'reissued');
      await this.outbox.append(manager, EventSubjects.AccessReissued, { userId: access.userId, policyId: policySlug });
      return key.token;
    });
  }

  async delete(uid: string, policySlug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const { access } = await this.find(manager, uid, policySlug, true);
      await this.keys.revoke(manager, [access.keyId], 'access-deleted');
      await manager.delete(AccessEntity, { id: access.id });
      await this.outbox.append(manager, EventSubjects.AccessDeleted, { userId: access.userId, policyId: policySlug });
    });
  }

  /** `lock`: inside a transaction, locks the access row until it commits. */
  private async find(manager: EntityManager, uid: string, policySlug: string, lock = false): Promise<{ access: AccessEntity }> {
    const user = await this.users.find(manager, UsersService.parseId(uid));
    const query = manager
      .createQueryBuilder(AccessEntity, 'a')
      .innerJoin(PolicyEntity, 'p', 'p.id = a.policy_id')
      .where('a.user_id = :userId AND p.slug = :policySlug', { userId: user.id, policySlug });
    if (lock) query.setLock('pessimistic_write', undefined, ['a']);
    const access = await query.getOne();
    if (!access) throw ApiError.notFound();
    return { access };
  }
}
