import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { AccessEntity, PolicyDocument, PolicyEntity } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { validateQuery } from '@odb/query';
import { BbkValidator, FieldError } from '@odb/validation';
import { Body, changedProperties, isUniqueViolation, rejectInvalid } from '../common/bbk-request';

export interface PolicyProperties {
  name: string;
  description: string;
  policy: PolicyDocument;
  tags: string[];
}

/** Access policies: data segment (a catalog query), field masks, legal context, rate and quota. */
@Injectable()
export class PoliciesService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly keys: AuthKeyStore,
  ) {}

  static properties(body: Body): PolicyProperties {
    return { name: body.name || '', description: body.description || '', policy: body.policy || {}, tags: body.tags ?? [] };
  }

  /** Schema errors, then the segment query through the same compiler the consumer API uses. */
  validate(properties: PolicyProperties): FieldError[] {
    const errors = this.validator.check(properties, 'policy');
    const segment = (properties.policy as Partial<PolicyDocument>)?.data_segment?.segment_query || {};
    const queryError = validateQuery(segment);
    if (queryError) errors.push({ name: 'policy.data_segment.segment_query', index: null, reason: queryError.reason });
    return errors;
  }

  list(): Promise<PolicyEntity[]> {
    return this.dataSource.getRepository(PolicyEntity).find({ order: { slug: 'ASC' } });
  }

  async get(slug: string): Promise<PolicyEntity> {
    const found = await this.dataSource.getRepository(PolicyEntity).findOneBy({ slug });
    if (!found) throw ApiError.notFound();
    return found;
  }

  async create(slug: string, body: Body): Promise<void> {
    const properties = PoliciesService.properties(body);
    rejectInvalid([...this.validator.check(slug, 'slug', 'slug'), ...this.validate(properties)]);
    try {
      await this.dataSource.transaction(async (manager) => {
        if (await manager.existsBy(PolicyEntity, { slug })) throw ApiError.conflict();
        await manager.insert(PolicyEntity, { slug, ...properties });
        await this.outbox.append(manager, EventSubjects.PolicyCreated, { policyId: slug });
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  async update(slug: string, body: Body): Promise<void> {
    const properties = PoliciesService.properties(body);
    rejectInvalid(this.validate(properties));
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(PolicyEntity, { slug });
      if (!current) throw ApiError.notFound();
      const changed = changedProperties<PolicyProperties>(current, properties);
      if (changed.length === 0) return; // nothing to write, event included
      await manager.update(PolicyEntity, { id: current.id }, properties);
      await this.outbox.append(manager, EventSubjects.PolicyUpdated, { policyId: slug, changed });
    });
  }

  /** Deletes the policy and its accesses; their consumer keys answer 403 from then on. */
  async delete(slug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(PolicyEntity, { slug });
      if (!current) throw ApiError.notFound();
      const accesses = await manager.find(AccessEntity, { where: { policyId: current.id }, order: { id: 'ASC' } });
      await this.keys.revoke(manager, accesses.map((access) => access.keyId), 'policy-deleted');
      await manager.delete(PolicyEntity, { id: current.id });
      await this.outbox.appendMany(manager, [
        ...accesses.map((access) => ({ subject: EventSubjects.AccessDeleted, payload: { userId: access.userId, policyId: slug } })),
        { subject: EventSubjects.PolicyDeleted, payload: { policyId: slug } },
      ]);
    });
  }
}
