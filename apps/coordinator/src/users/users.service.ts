import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { AccessEntity, PolicyEntity, UserEntity } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { BbkValidator } from '@odb/validation';
import { Body, changedProperties, isUniqueViolation, rejectInvalid } from '../common/bbk-request';

export interface UserProperties {
  name: string;
  email: string;
  organization: string;
  addendum: Record<string, any>;
}

/** A user with the policy slugs of their accesses, as the views need them. */
export interface UserWithAccesses {
  user: UserEntity;
  accesses: string[];
}

/** Users and the coordinator role. Ids come from a sequence and are never reused. */
@Injectable()
export class UsersService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly keys: AuthKeyStore,
  ) {}

  static properties(body: Body): UserProperties {
    return {
      name: body.name || '',
      email: String(body.email || '').toLowerCase(),
      organization: body.organization || '',
      addendum: body.addendum || {},
    };
  }

  /** URL user ids that are not 1–8 digits are treated as unknown users (404), as BitBroker does. */
  static parseId(uid: string): number {
    if (!/^[0-9]{1,8}$/.test(uid)) throw ApiError.notFound();
    return Number(uid);
  }

  async list(): Promise<UserWithAccesses[]> {
    const users = await this.dataSource.getRepository(UserEntity).find({ order: { id: 'ASC' } });
    const accesses = await this.accessSlugs(this.dataSource.manager, users.map((user) => user.id));
    return users.map((user) => ({ user, accesses: accesses.get(user.id) ?? [] }));
  }

  async get(uid: string): Promise<UserWithAccesses> {
    return this.withAccesses(await this.find(this.dataSource.manager, UsersService.parseId(uid)));
  }

  async getByEmail(email: string): Promise<UserWithAccesses> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ email: email.toLowerCase() });
    if (!user) throw ApiError.notFound();
    return this.withAccesses(user);
  }

  async create(body: Body): Promise<number> {
    const properties = UsersService.properties(body);
    rejectInvalid([...this.validator.check(properties, 'user'), ...this.validator.check(properties.addendum, 'addendum', 'addendum')]);
    try {
      return await this.dataSource.transaction(async (manager) => {
        if (await manager.existsBy(UserEntity, { email: properties.email })) throw ApiError.conflict();
        const { identifiers } = await manager.insert(UserEntity, { ...properties, coordinatorKeyId: null });
        const id = identifiers[0].id as number;
        await this.outbox.append(manager, EventSubjects.UserCreated, { userId: id });
        return id;
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  /** The email cannot change; it is ignored here. */
  async update(uid: string, body: Body): Promise<void> {
    const id = UsersService.parseId(uid);
    const { name, organization, addendum } = UsersService.properties(body);
    rejectInvalid([
      ...this.validator.check(name, 'name', 'name'),
      ...this.validator.check(organization, 'name', 'organization'),
      ...this.validator.check(addendum, 'addendum', 'addendum'),
    ]);
    await this.dataSource.transaction(async (manager) => {
      const user = await this.find(manager, id);
      const changed = changedProperties(user, { name, organization, addendum });
      await manager.update(UserEntity, { id }, { name, organization, addendum });
      await this.outbox.append(manager, EventSubjects.UserUpdated, { userId: id, changed });
    });
  }

  /** Deletes the user and their accesses; all their keys, the coordinator key included, are revoked. */
  async delete(uid: string): Promise<void> {
    const id = UsersService.parseId(uid);
    await this.dataSource.transaction(async (manager) => {
      const user = await this.find(manager, id);
      const accesses = await manager
        .createQueryBuilder(AccessEntity, 'a')
        .innerJoin(PolicyEntity, 'p', 'p.id = a.policy_id')
        .select(['a.key_id AS key_id', 'p.slug AS slug'])
        .where('a.user_id = :id', { id })
        .orderBy('a.id', 'ASC')
        .getRawMany<{ key_id: string; slug: string }>();
      await this.keys.revoke(manager, [user.coordinatorKeyId, ...accesses.map((access) => access.key_id)], 'user-deleted');
      await manager.delete(UserEntity, { id });
      // The database cascade removes the accesses: announce them as a policy delete does.
      await this.outbox.appendMany(manager, [
        ...accesses.map((access) => ({ subject: EventSubjects.AccessDeleted, payload: { userId: id, policyId: access.slug } })),
        { subject: EventSubjects.UserDeleted, payload: { userId: id } },
      ]);
    });
  }

  /** Grants the coordinator role: 200 with the token (409 when the user already has it). */
  async promote(uid: string): Promise<string> {
    const id = UsersService.parseId(uid);
    return this.dataSource.transaction(async (manager) => {
      const user = await this.find(manager, id, true);
      if (user.coordinatorKeyId) throw ApiError.conflict();
      const key = await this.keys.issue(manager, 'coordinator', '');
      await manager.update(UserEntity, { id }, { coordinatorKeyId: key.keyId });
      await this.outbox.append(manager, EventSubjects.UserPromoted, { userId: id });
      return key.token;
    });
  }

  async demote(uid: string): Promise<void> {
    const id = UsersService.parseId(uid);
    await this.dataSource.transaction(async (manager) => {
      const user = await this.find(manager, id, true);
      if (!user.coordinatorKeyId) throw ApiError.conflict();
      await manager.update(UserEntity, { id }, { coordinatorKeyId: null });
      await this.keys.revoke(manager, [user.coordinatorKeyId], 'coordinator-demoted');
      await this.outbox.append(manager, EventSubjects.UserDemoted, { userId: id });
    });
  }

  async find(manager: EntityManager, id: number, lock = false): Promise<UserEntity> {
    const user = await manager.findOne(UserEntity, { where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!user) throw ApiError.notFound();
    return user;
  }

  private async withAccesses(user: UserEntity): Promise<UserWithAccesses> {
    const accesses = await this.accessSlugs(this.dataSource.manager, [user.id]);
    return { user, accesses: accesses.get(user.id) ?? [] };
  }

  /** Policy slugs of each user's accesses, in creation order. */
  private async accessSlugs(manager: EntityManager, userIds: number[]): Promise<Map<number, string[]>> {
    const rows: Array<{ user_id: number; slug: string }> = userIds.length
      ? await manager
          .createQueryBuilder(AccessEntity, 'a')
          .innerJoin(PolicyEntity, 'p', 'p.id = a.policy_id')
          .select(['a.user_id AS user_id', 'p.slug AS slug'])
          .where('a.user_id IN (:...userIds)', { userIds })
          .orderBy('a.id', 'ASC')
          .getRawMany()
      : [];
    const byUser = new Map<number, string[]>();
    for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row.slug]);
    return byUser;
  }
}
