import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import { BucketCompactor } from '../src/indexes/bucket-compactor';
import {
  ConsumerPlatform,
  Connector,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  startConsumerPlatform,
  remove,
  upsert,
} from './consumer.support';

jest.setTimeout(180_000);

/**
 * Deep offsets of GET /entity/:type are found through `record_bucket` (record
 * counts per block of 1,024 ids) instead of skipping rows. Whatever the path,
 * a page must be exactly `ORDER BY record.id OFFSET n LIMIT m` over the
 * visible records: checked against SQL and against a consumer that always
 * skips rows, with connectors interleaved (blocks shared by connectors), a
 * staged connector, deletions, and after the counts are compacted.
 */
describeWithInfrastructure('consumer-query: deep paging', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let counted: ApiClient;
  let skipping: ApiClient;
  let a: Connector;
  let b: Connector;
  let staged: Connector;
  const segments = { all: {}, typed: { type: 'item' }, filtered: { type: 'item', 'entity.even': true } };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    // This instance takes the counted path from offset 1 on; the replica never does.
    platform = await startConsumerPlatform(env, { consumer: { DEEP_PAGING_FROM: '1', BUCKET_COMPACT_INTERVAL_MS: '0' } });
    const replica = await platform.startReplica({ DEEP_PAGING_FROM: '100000000' });
    counted = new ApiClient(platform.consumer.api);
    skipping = new ApiClient(replica.api);
    const { admin, contributor } = platform;
    await createType(admin, 'other');
    await createType(admin, 'item');
    a = await createConnector(admin, 'item', 'alpha');
    b = await createConnector(admin, 'item', 'beta');
    staged = await createConnector(admin, 'item', 'staged', { live: false });
    const others = await createConnector(admin, 'other', 'others');
    let n = 0;
    const batch = (size: number) =>
      Array.from({ length: size }, () => {
        n += 1;
        return { id: `r${n}`, name: `Record ${n}`, entity: { n, even: n % 2 === 0 } };
      });
    // Interleaved writers, so that blocks of ids hold records of several connectors and types; ids jump twice,
    // so that records straddle blocks of 2^16 ids and some such blocks are sparse or empty.
    for (let round = 0; round < 9; round++) {
      if (round === 3) await platform.db.query(`SELECT setval('record_id_seq', 65536 - 700)`);
      if (round === 6) await platform.db.query(`SELECT setval('record_id_seq', 3 * 65536 - 500)`);
      await upsert(contributor, a, batch(150));
      await upsert(contributor, others, batch(40));
      await upsert(contributor, b, batch(100));
      await upsert(contributor, staged, batch(60));
    }
    for (const [slug, segment] of Object.entries(segments)) await createPolicy(admin, slug, { segment });
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  async function truth(stagedIds: string[], filter: string): Promise<string[]> {
    const { rows } = await platform.db.query(
      `SELECT r.public_id FROM record r JOIN connector c ON c.id = r.connector_id JOIN entity_type t ON t.id = r.entity_type_id
        WHERE t.slug = 'item' AND (c.is_live OR c.contribution_id = ANY($1::text[])) AND ${filter} ORDER BY r.id`,
      [stagedIds],
    );
    return rows.map((row) => row.public_id);
  }

  async function compare(label: string): Promise<void> {
    for (const [policy, filter] of [
      ['all', 'TRUE'],
      ['typed', 'TRUE'],
      ['filtered', `(r.document #> '{entity,even}') = 'true'`],
    ]) {
      for (const header of [undefined, staged.id]) {
        const expected = await truth(header ? [header] : [], filter);
        const headers: Record<string, string> = header ? { 'x-bbk-connectors': header } : {};
        const straddling = expected.length > 0 ? [Math.floor(expected.length / 3), Math.floor(expected.length / 3) + 1, Math.floor((2 * expected.length) / 3)] : [];
        for (const offset of [0, 1, 249, 250, 1023, 1024, 1025, 1500, 2047, 2048, ...straddling, expected.length - 250, expected.length - 1, expected.length, expected.length + 5]) {
          if (offset < 0) continue;
          for (const limit of [250, 7]) {
            const path = `/entity/item?limit=${limit}&offset=${offset}`;
            const viaCounts = await consumerAs(counted, policy, headers).get(path);
            const viaSkipping = await consumerAs(skipping, policy, headers).get(path);
            const want = expected.slice(offset, offset + limit);
            const where = `${label} ${policy} staged=${Boolean(header)} offset=${offset} limit=${limit}`;
            expect({ where, ids: viaCounts.body.map((item: { id: string }) => item.id) }).toEqual({ where, ids: want });
            expect({ where, ids: viaSkipping.body.map((item: { id: string }) => item.id) }).toEqual({ where, ids: want });
          }
        }
      }
    }
  }

  it('gives the same pages as skipping rows, at every offset', async () => {
    await compare('inserted');
  });

  it('stays exact after deletions across blocks', async () => {
    await remove(platform.contributor, a, Array.from({ length: 400 }, (_, i) => `r${1 + i * 3}`));
    await remove(platform.contributor, staged, Array.from({ length: 2000 }, (_, i) => `r${i}`));
    await compare('deleted');
  });

  it('stays exact after the counts are compacted, with fewer rows', async () => {
    const counts = async () =>
      (await platform.db.query('SELECT count(*)::int AS n, sum(n) FILTER (WHERE level = 0)::int AS blocks, sum(n) FILTER (WHERE level = 1)::int AS supers FROM record_bucket')).rows[0];
    const before = await counts();
    const merged = await platform.consumer.app.get(BucketCompactor).compact();
    const after = await counts();
    expect(merged).toBeGreaterThan(0);
    expect(after.n).toBe(before.n - merged);
    const [{ records }] = (await platform.db.query('SELECT count(*)::int AS records FROM record')).rows;
    expect([before.blocks, before.supers, after.blocks, after.supers]).toEqual([records, records, records, records]);
    // Both levels agree with the records, per type, connector and block.
    const { rows: wrong } = await platform.db.query(
      `SELECT l.level FROM (VALUES (0, 10), (1, 16)) AS l (level, bits)
        CROSS JOIN LATERAL (
          SELECT entity_type_id, connector_id, id >> l.bits AS bucket, count(*) AS n FROM record GROUP BY 1, 2, 3
          EXCEPT
          SELECT entity_type_id, connector_id, bucket, sum(n) FROM record_bucket WHERE level = l.level GROUP BY 1, 2, 3 HAVING sum(n) <> 0
        ) AS missing`,
    );
    expect(wrong).toEqual([]);
    await compare('compacted');
  });
});
