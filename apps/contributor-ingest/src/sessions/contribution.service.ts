import { recordPublicId, SessionMode } from '@odb/contracts';
import { BbkValidator, FieldError } from '@odb/validation';
import { RecordBatchValidator } from '../records/record-batch-validator';
import { ContributionError } from './contribution-error';
import { ContributionTarget, PreparedRecord, SessionStore } from './session-store';
import { WriteResult, writeResult } from './write-result';

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
   * every record, as an object or as its JSON text.
   */
  async write(
    contributionId: string,
    sessionId: string,
    action: string,
    batch: unknown,
  ): Promise<WriteResult> {
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
      if (target.sessionMode === 'stream') return writeResult(prepared, applied(await storable(this.store.upsertNow(target, prepared), records)));
      await this.buffer(sessionId, 'upsert', prepared, records);
      return writeResult(prepared, 0);
    }
    // Ids are short: checked here, so that a stream delete (which matches on public ids) refuses them as the others do.
    reject(nulCharacters(batch as string[]));
    const vendorIds = [...new Set(batch as string[])];
    const prepared = vendorIds.map((vendorId) => ({ vendorId, publicId: recordPublicId(contributionId, vendorId), name: null, document: null }));
    if (target.sessionMode === 'stream') return writeResult(prepared, applied(await this.store.deleteNow(target, prepared)));
    await this.buffer(sessionId, 'delete', prepared, batch as string[]);
    return writeResult(prepared, 0);
  }

  /** The session may have been closed or replaced since it was checked: then its operations are refused like a wrong sid. */
  private async buffer(sessionId: string, action: 'upsert' | 'delete', prepared: PreparedRecord[], batch: unknown[]): Promise<void> {
    if (!(await storable(this.store.buffer(sessionId, action, prepared), batch))) throw new ContributionError(401);
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

/** A stream write finds its session closed or replaced since it was checked: refused like a wrong sid. */
function applied(changed: number | null): number {
  if (changed === null) throw new ContributionError(401);
  return changed;
}

function reject(errors: FieldError[]): void {
  if (errors.length > 0) throw new ContributionError(400, errors);
}

/** PostgreSQL's untranslatable_character: text (and jsonb) cannot hold U+0000. */
const UNTRANSLATABLE_CHARACTER = '22P05';

/**
 * A write PostgreSQL refused for a NUL character in the batch is the client's
 * error (400, naming the records that hold one), not ours. Found when the one
 * statement fails, so that valid batches pay no scan for it; the statement
 * wrote nothing.
 */
async function storable<T>(write: Promise<T>, batch: unknown[]): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if ((error as { code?: string }).code !== UNTRANSLATABLE_CHARACTER) throw error;
    const errors = nulCharacters(batch);
    throw new ContributionError(400, errors.length > 0 ? errors : [{ name: 'records', index: null, reason: NUL_REASON }]);
  }
}

const NUL_REASON = 'contains a NUL character (\\u0000), which PostgreSQL text cannot hold';

function nulCharacters(batch: unknown[]): FieldError[] {
  return batch.flatMap((item, index) => ((JSON.stringify(item) ?? '').includes('\\u0000') ? [{ name: 'records', index, reason: NUL_REASON }] : []));
}
