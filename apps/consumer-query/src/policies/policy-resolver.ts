import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainEvent, EventSubjects } from '@odb/contracts';
import { OnDomainEventBroadcast } from '@odb/messaging';
import { PolicyDocument, PolicyEntity } from '@odb/persistence';
import { SERVICE_CONFIG } from '@odb/platform';
import { ConsumerQueryConfig } from '../config';

export interface ActivePolicy {
  slug: string;
  policy: PolicyDocument;
}

/**
 * The policy a consumer request runs under, from the database, cached per
 * replica; policy updates and deletions reach every replica as events, so a
 * change applies at once (the cache lifetime bounds it if an event is missed).
 */
@Injectable()
export class PolicyResolver {
  private readonly cache = new Map<string, { policy: ActivePolicy | null; at: number }>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ConsumerQueryConfig,
  ) {}

  async resolve(slug: string): Promise<ActivePolicy | null> {
    if (!slug) return null;
    const key = slug.toLowerCase();
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at < this.config.POLICY_CACHE_MS) return cached.policy;
    const row = await this.dataSource.getRepository(PolicyEntity).findOneBy({ slug: key });
    const policy = row ? { slug: row.slug, policy: row.policy } : null;
    this.cache.set(key, { policy, at: Date.now() });
    return policy;
  }

  @OnDomainEventBroadcast(EventSubjects.PolicyUpdated)
  async onPolicyUpdated(event: DomainEvent<'policy.updated'>): Promise<void> {
    this.cache.delete(event.payload.policyId);
  }

  @OnDomainEventBroadcast(EventSubjects.PolicyDeleted)
  async onPolicyDeleted(event: DomainEvent<'policy.deleted'>): Promise<void> {
    this.cache.delete(event.payload.policyId);
  }

  @OnDomainEventBroadcast(EventSubjects.PolicyCreated)
  async onPolicyCreated(event: DomainEvent<'policy.created'>): Promise<void> {
    this.cache.delete(event.payload.policyId);
  }
}
