import { recordPublicId, SessionMode } from '@odb/contracts';
import { BbkValidator, FieldError } from '@odb/validation';
import { RecordBatchValidator } from '../records/record-batch-validator';
import { ContributionError } from './contribution-error';
import { ContributionTarget, PreparedRecord, SessionStore } from './session-store';

interface IncomingRecord {
  id: string;
  name: string;
  entity: Record<string, unknown>;
  instance?: Record<string, unknown>;
}

/**
 * BitBroker's contribution semantics, independent of transport (HTTP or
 * NATS): validation in BitBroker's order (path ids, action, records, then the
 * connector (404), the session (401), then the entity schema), public ids,
 * duplicate ids in a batch (last wins), and stream versus buffered sessions.
 */
export class ContributionService {
  private readonly ids = new BbkValidator();

  constructor(
    private readonly store: SessionStore,
    private readonly records: RecordBatchValidator,
  ) {}

  async open(contributionId: string, mode: string): Promise<string> {
    reject([...this.ids.check(contributionId, 'contributionId', 'id'), ...this.ids.check(mode, 'sessionMode', 'mode')]);
    const sessionId = await this.store.open(contributionId, mode as SessionMode);
    if (!sessionId) throw new ContributionError(404);
    return sessionId;
  }

  /**
   * Applies (stream) or buffers (accrue, replace) a batch; answers how many
   * records changed, and (built only when called) vendor id → public id for
   * every record.
   */
  async write(
    contributionId: string,
    sessionId: string,
    action: string,
    batch: unknown,
  ): Promise<{ ids: () => Record<string, string>; changed: number }> {
    reject([
      ...this.ids.check(contributionId, 'contributionId', 'id'),
      ...this.ids.check(sessionId, 'sessionId', 'id'),
      ...this.ids.check(action, 'sessionAction', 'action'),
      ...(action === 'upsert' || action === 'delete' ? this.records.structureErrors(action, batch) : []),
    ]);
    const target = await this.store.findTarget(contributionId);
    if (!target) throw new ContributionError(404);
    if (target.sessionId !== sessionId) throw new ContributionError(401);

    if (action === 'upsert') {
      const records = batch as IncomingRecord[];
      reject(
        this.records.entityErrors({ cacheKey: `${target.entityTypeId}:${target.entityVersion}`, schema: target.schema }, records),
      );
      const prepared = lastWins(records.map((record) => this.prepare(target, record)));
      if (target.sessionMode === 'stream') return { ids: () => idMap(prepared), changed: applied(await this.store.upsertNow(target, prepared)) };
      await this.buffer(sessionId, 'upsert', prepared);
      return { ids: () => idMap(prepared), changed: 0 };
    }
    const vendorIds = [...new Set(batch as string[])];
    const prepared = vendorIds.map((vendorId) => ({ vendorId, publicId: recordPublicId(contributionId, vendorId), name: null, document: null }));
    if (target.sessionMode === 'stream') return { ids: () => idMap(prepared), changed: applied(await this.store.deleteNow(target, prepared)) };
    await this.buffer(sessionId, 'delete', prepared);
    return { ids: () => idMap(prepared), changed: 0 };
  }

  /** The session may have been closed or replaced since it was checked: then its operations are refused like a wrong sid. */
  private async buffer(sessionId: string, action: 'upsert' | 'delete', prepared: PreparedRecord[]): Promise<void> {
    if (!(await this.store.buffer(sessionId, action, prepared))) throw new ContributionError(401);
  }

  async close(contributionId: string, sessionId: string, commit: string): Promise<number> {
    reject([
      ...this.ids.check(contributionId, 'contributionId', 'id'),
      ...this.ids.check(sessionId, 'sessionId', 'id'),
      ...this.ids.check(commit, 'sessionCommit', 'commit'),
    ]);
    if (!(await this.store.findTarget(contributionId))) throw new ContributionError(404);
    const applied = await this.store.close(contributionId, sessionId, commit === 'true');
    if (applied === null) throw new ContributionError(401);
    return applied;
  }

  /** The stored document: the record plus its type and the type's timeseries, as consumers query it. */
  private prepare(target: ContributionTarget, record: IncomingRecord): PreparedRecord {
    const document: Record<string, unknown> = { id: record.id, name: record.name, type: target.entitySlug, entity: record.entity };
    if (record.instance !== undefined) document.instance = record.instance;
    document.timeseries = target.timeseries ?? {};
    return { vendorId: record.id, publicId: recordPublicId(target.contributionId, record.id), name: record.name, document };
  }
}

/** Duplicate ids in one batch: the last one's content, at the first one's position (as sequential upserts would do). */
function lastWins(records: PreparedRecord[]): PreparedRecord[] {
  const byVendor = new Map<string, PreparedRecord>();
  for (const record of records) byVendor.set(record.vendorId, record);
  return [...byVendor.values()];
}

function idMap(records: PreparedRecord[]): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const record of records) ids[record.vendorId] = record.publicId;
  return ids;
}

/** A stream write finds its session closed or replaced since it was checked: refused like a wrong sid. */
function applied(changed: number | null): number {
  if (changed === null) throw new ContributionError(401);
  return changed;
}

function reject(errors: FieldError[]): void {
  if (errors.length > 0) throw new ContributionError(400, errors);
}
