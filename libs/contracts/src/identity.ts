import { hash } from 'crypto';

/**
 * A record's public id, BitBroker's rule: sha1("<contribution id>:<vendor id>").
 * The one place it is computed: contributor-ingest stores it, consumer-query
 * resolves `bbk://` links with it, and both must agree forever.
 */
export function recordPublicId(contributionId: string, vendorId: string): string {
  // One-shot hashing: no Hash object per record on the ingest hot path.
  return hash('sha1', `${contributionId}:${vendorId}`, 'hex');
}
