import { createHash } from 'crypto';
import { Transform } from 'stream';
import { HarvestedDataset, HarvestedDistribution, toCatalogErrorReport } from '@odb/catalog-connectors';
import { ContributedRecord, MAX_RPC_BATCH } from '@odb/contracts';
import { contentHash, describedBy, distributionMetadata, recordName, withoutUndefined } from '../runs/dataset-record';
import { HarvestContext, ListingOutcome, goneFromRemote } from '../runs/harvest-context';
import { IngestSession, RejectedRecord } from '../runs/ingest-session';
import { ResourceKind, SourceRow, readRows, resourceKind } from './row-readers';
import { RowShape } from './row-shape';

/** Rows the schema is inferred from before anything is written. */
const SAMPLE_ROWS = 1000;
const DEFAULT_KINDS: ResourceKind[] = ['csv', 'json', 'geojson'];
const NAME_COLUMNS = ['name', 'title', 'label', 'nom', 'libelle'];

/**
 * Data mode: each matched remote resource (CSV, JSON, GeoJSON) becomes an
 * entity type of its own (provisioned by the coordinator, with a JSON Schema
 * inferred from the data and the remote dataset's metadata) under a
 * connector owned by the source; its rows become records, streamed in
 * batches through contributor-ingest.
 *
 * A resource seen before is written in a `replace` session: the new content
 * replaces the old atomically at commit (rows gone from the file disappear),
 * and a read that fails half-way is discarded, leaving the previous content.
 * A resource whose bytes did not change (304 to a conditional request, or the
 * same SHA-256) writes nothing. The first harvest of a resource streams.
 */
export async function harvestData(context: HarvestContext): Promise<ListingOutcome> {
  const { tracker, run } = context;
  const listing: ListingOutcome = { seen: new Set() };
  const wanted = new Set(
    (run.source.filters.resource_formats?.length ? run.source.filters.resource_formats : DEFAULT_KINDS).map((format) => format.toLowerCase()),
  );
  const seenDatasets = new Set<string>();
  try {
    for await (const page of context.adapter.listDatasets(context.filters, {}, { signal: tracker.signal })) {
      tracker.progress.pages = page.index;
      if (page.total !== undefined) tracker.progress.total = page.total;
      for (const skipped of page.skipped) {
        for (const key of context.known.keys()) if (key.startsWith(`${skipped.reference}#`)) listing.seen.add(key);
        tracker.item({ remoteId: skipped.reference, outcome: 'skipped', message: skipped.reason });
      }
      if (page.incomplete) listing.incomplete = page.incomplete;
      for (const dataset of page.datasets) {
        tracker.progress.listed = (tracker.progress.listed as number) + 1;
        if (seenDatasets.has(dataset.remoteId)) {
          tracker.item({ remoteId: dataset.remoteId, title: dataset.title, outcome: 'skipped', message: 'duplicate remote id: listed twice, the first one was kept' });
          continue;
        }
        seenDatasets.add(dataset.remoteId);
        for (const distribution of dataset.distributions) {
          const kind = resourceKind(distribution);
          if (!kind || !wanted.has(kind)) continue;
          const key = `${dataset.remoteId}#${distribution.remoteId}`;
          if (listing.seen.has(key)) continue;
          listing.seen.add(key);
          await harvestResource(context, dataset, distribution, kind, key);
          await tracker.flush();
          tracker.signal.throwIfAborted();
        }
      }
      await tracker.flush();
    }
  } catch (error) {
    if (tracker.signal.aborted) throw tracker.signal.reason ?? error;
    listing.error = toCatalogErrorReport(error).message;
  }
  if (!listing.error) await retireGone(context, listing);
  return listing;
}

async function harvestResource(
  context: HarvestContext,
  dataset: HarvestedDataset,
  distribution: HarvestedDistribution,
  kind: ResourceKind,
  key: string,
): Promise<void> {
  const { tracker, run, known, store } = context;
  const previous = known.get(key);
  const title = `${dataset.title} (${distribution.title || distribution.format || kind})`;
  const metadata = resourceMetadata(dataset, distribution, run.source.catalog.slug);
  const metaHash = contentHash(metadata);
  tracker.progress.resource = { key, url: distribution.url, rows: 0 };
  if (run.dryRun) {
    if (!previous) tracker.item({ remoteId: key, title, outcome: 'added', details: { url: distribution.url, kind } });
    else if (previous.details.metaHash !== metaHash) tracker.item({ remoteId: key, title, outcome: 'updated', message: 'metadata changed (data not read in a preview)' });
    else tracker.unchanged();
    return;
  }
  let session: IngestSession | undefined;
  let entityType: string | undefined = previous?.details.entityType;
  let written = 0;
  try {
    const conditional: Record<string, string> = {};
    if (previous?.contentHash && previous.details.etag) conditional['if-none-match'] = previous.details.etag;
    if (previous?.contentHash && previous.details.lastModified) conditional['if-modified-since'] = previous.details.lastModified;
    const response = await context.http.stream({
      url: distribution.url,
      headers: conditional,
      acceptStatus: (status) => status === 304,
      maxResponseBytes: context.config.HARVEST_MAX_RESOURCE_BYTES,
      signal: tracker.signal,
    });
    const validators = { etag: header(response.headers.etag), lastModified: header(response.headers['last-modified']) };
    if (response.status === 304) {
      response.body.resume();
      if (previous!.details.metaHash === metaHash) return tracker.unchanged();
      const provisioned = await provision(context, key, title, metadata);
      await store.saveItems(run.source.id, run.id, [{ remoteId: key, contentHash: previous!.contentHash, entityTypeSlug: provisioned.entityTypeId, details: { ...previous!.details, metaHash } }]);
      return tracker.item({ remoteId: key, title, outcome: 'updated', message: 'metadata changed; data unchanged (HTTP 304)', details: { entity_type: provisioned.entityTypeId } });
    }
    const digest = createHash('sha256');
    const hashed = response.body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          digest.update(chunk);
          callback(null, chunk);
        },
      }),
    );
    response.body.on('error', (error) => hashed.destroy(error));
    const batches = readRows(kind, hashed)[Symbol.asyncIterator]();
    const sample: SourceRow[] = [];
    while (sample.length < SAMPLE_ROWS) {
      const next = await batches.next();
      if (next.done) break;
      sample.push(...next.value);
    }
    const shape = RowShape.infer(sample.slice(0, SAMPLE_ROWS).map((row) => row.values), kind === 'csv');
    const schema = shape.schema(kind === 'geojson' ? { geometry: { type: ['object', 'null'] } } : {});
    const provisioned = await provision(context, key, title, metadata, schema);
    entityType = provisioned.entityTypeId;
    // A resource harvested before (even partly) is replaced as a whole; a new one streams.
    session = await IngestSession.open(context.rpc, provisioned.contributionId, previous ? 'replace' : 'stream', context.config.HARVEST_RPC_TIMEOUT_MS);
    const writer = new BatchWriter(session, context.config.HARVEST_WRITE_CONCURRENCY, context.maxPayloadBytes, (rejected) => {
      for (const { record, reason } of rejected) tracker.item({ remoteId: `${key}#${record.id}`, outcome: 'failed', message: `row refused by the catalog: ${reason}` });
    });
    const toRecord = recordMaker(shape, run.source.row_key);
    let position = 0;
    const consume = async (rows: SourceRow[]) => {
      for (const row of rows) {
        const made = toRecord(row);
        if ('error' in made) tracker.item({ remoteId: `${key}@${row.position}`, outcome: 'failed', message: `row ${row.position}: ${made.error}` });
        else {
          if (writer.full(made.size)) await writer.dispatch();
          writer.add(made.record, made.size);
        }
      }
      position = rows.length > 0 ? rows[rows.length - 1].position : position;
      (tracker.progress.resource as Record<string, unknown>).rows = position;
    };
    await consume(sample);
    for (let next = await batches.next(); !next.done; next = await batches.next()) await consume(next.value);
    written = await writer.finish();
    (tracker.progress.resource as Record<string, unknown>).rows = position;
    const bodyHash = digest.digest('hex');
    const unchanged = previous?.contentHash === bodyHash && previous.details.schemaHash === contentHash(schema);
    await session.close(!unchanged);
    session = undefined;
    await store.saveItems(run.source.id, run.id, [
      { remoteId: key, contentHash: bodyHash, entityTypeSlug: entityType, details: { ...validators, metaHash, schemaHash: contentHash(schema), entityType, rows: position } },
    ]);
    if (unchanged && previous!.details.metaHash === metaHash) return tracker.unchanged();
    tracker.item({
      remoteId: key,
      title,
      outcome: previous ? 'updated' : 'added',
      ...(unchanged ? { message: 'metadata changed; data unchanged' } : {}),
      details: { entity_type: entityType, rows: position, url: distribution.url },
    });
  } catch (error) {
    if (session) {
      // replace: nothing of this read is applied; stream (first harvest): what was written stays, and the next run replaces it.
      const mode = previous ? 'replace' : 'stream';
      await session.close(false).catch(() => undefined);
      if (mode === 'stream' && written > 0 && entityType) {
        await store.saveItems(run.source.id, run.id, [{ remoteId: key, contentHash: '', entityTypeSlug: entityType, details: { metaHash, entityType, partial: true } }]);
      }
    }
    if (tracker.signal.aborted) throw tracker.signal.reason ?? error;
    tracker.item({ remoteId: key, title, outcome: 'failed', message: toCatalogErrorReport(error).message, details: { url: distribution.url } });
  }
}

function provision(context: HarvestContext, key: string, title: string, metadata: Record<string, unknown>, schema?: Record<string, unknown>) {
  return context.rpc.call(
    'coordinator.harvest.provision',
    {
      harvestSourceId: context.run.source.slug,
      resourceKey: key,
      name: title,
      description: String(metadata.description ?? ''),
      keywords: (metadata.keywords as string[]) ?? [],
      ...(schema ? { schema } : {}),
      datasetMetadata: metadata,
    },
    { timeoutMs: context.config.HARVEST_RPC_TIMEOUT_MS },
  );
}

/** Resources the source brought in before and the remote no longer has: their entity types go (or stay, with on_removed: keep). */
async function retireGone(context: HarvestContext, listing: ListingOutcome): Promise<void> {
  const { tracker, known, run, store } = context;
  const gone = goneFromRemote(context, listing, 'resource');
  for (const key of gone) {
    if (run.source.on_removed === 'keep') {
      tracker.item({ remoteId: key, outcome: 'kept', message: 'gone from the remote; kept (on_removed: keep)' });
      continue;
    }
    const entityTypeId = known.get(key)?.details.entityType;
    if (!run.dryRun) {
      if (entityTypeId) await context.rpc.call('coordinator.harvest.retire', { harvestSourceId: run.source.slug, entityTypeId }, { timeoutMs: context.config.HARVEST_RPC_TIMEOUT_MS });
      await store.forgetItems(run.source.id, [key]);
    }
    tracker.item({ remoteId: key, outcome: 'deleted', message: 'gone from the remote', details: entityTypeId ? { entity_type: entityTypeId } : null });
  }
}

function resourceMetadata(dataset: HarvestedDataset, distribution: HarvestedDistribution, catalog: string): Record<string, unknown> {
  return withoutUndefined({ ...describedBy(dataset), remote_id: dataset.remoteId, catalog, resource: distributionMetadata(distribution) });
}

/**
 * Rows as records: the key from the configured column, else the GeoJSON
 * feature id, else a digest of the row (stable: the same row always gets the
 * same key); the name from the key column or a name-like column.
 */
function recordMaker(shape: RowShape, rowKey: string | null) {
  return (row: SourceRow): { record: ContributedRecord; size: number } | { error: string } => {
    const converted = shape.convert(row.values);
    if ('error' in converted) return converted;
    const entity = converted.values;
    // The row is serialized only when its digest is the key; otherwise its size is estimated from its values.
    const json = rowKey || row.featureId !== undefined ? undefined : JSON.stringify(entity);
    let id: string;
    if (rowKey) {
      const value = entity[rowKey];
      if (value === null || value === undefined || value === '') return { error: `the row key column ${rowKey} is empty` };
      id = String(value);
      if (id.length > 256) id = `sha1:${createHash('sha1').update(id).digest('hex')}`;
    } else if (row.featureId !== undefined && row.featureId.length <= 256) {
      id = row.featureId;
    } else {
      id = createHash('sha1').update(json!).digest('hex');
    }
    const nameColumn = NAME_COLUMNS.find((column) => typeof entity[column] === 'string' && entity[column] !== '');
    const name = recordName(rowKey ? String(entity[rowKey]) : nameColumn ? String(entity[nameColumn]) : undefined, id);
    return { record: { id, name, entity }, size: (json?.length ?? estimatedSize(entity)) + id.length + name.length + 40 };
  };
}

/**
 * Batches of at most MAX_RPC_BATCH records that fit in one NATS message,
 * `concurrency` of them in flight: the reader is paused (await) while the
 * window is full, so memory stays flat whatever the file size.
 */
class BatchWriter {
  private batch: ContributedRecord[] = [];
  private batchBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private written = 0;

  constructor(
    private readonly session: IngestSession,
    private readonly concurrency: number,
    private readonly maxBytes: number,
    private readonly onRejected: (rejected: RejectedRecord[]) => void,
  ) {}

  /** Whether the batch being filled must be dispatched before a record of `size` bytes joins it. */
  full(size: number): boolean {
    return this.batch.length > 0 && (this.batch.length >= MAX_RPC_BATCH || this.batchBytes + size > this.maxBytes);
  }

  add(record: ContributedRecord, size: number): void {
    if (this.failure) throw this.failure;
    this.batch.push(record);
    this.batchBytes += size;
  }

  async finish(): Promise<number> {
    if (this.batch.length > 0) await this.dispatch();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    return this.written;
  }

  async dispatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const sending: Promise<void> = this.session.upsert(batch).then(
      (rejected) => {
        this.written += batch.length - rejected.length;
        if (rejected.length > 0) this.onRejected(rejected);
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = sending.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

/** Upper bound of a row's JSON size, without serializing it (nested values are serialized). */
function estimatedSize(entity: Record<string, unknown>): number {
  let size = 2;
  for (const key in entity) {
    const value = entity[key];
    size += key.length + 6 + (typeof value === 'string' ? value.length * 2 : typeof value === 'object' && value !== null ? JSON.stringify(value).length : 24);
  }
  return size;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
