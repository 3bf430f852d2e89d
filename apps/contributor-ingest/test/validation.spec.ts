import { ApiClient, ApiResponse, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  CreatedConnector,
  IngestPlatform,
  createConnector,
  createEntityType,
  startIngestPlatform,
  vendorIds,
  writeSnapshot,
} from './ingest.support';

const UNKNOWN_CID = 'f'.repeat(40);
const UNKNOWN_SID = '4527eff4-7a0c-4b7e-9c6a-2b1c8c1d2e3f';
const record = { id: 'R1', name: 'record one', entity: { value: 1 } };
const schema1 = { type: 'object', properties: { value: { type: 'integer', maximum: 100, minimum: 0 } } };
const schema2 = { type: 'object', properties: { value: { type: 'string', enum: ['apple', 'banana', 'cantaloupe'] } }, required: ['value'] };
const schema3 = { type: 'foobar' };

interface Expected {
  name: string;
  index?: number | null;
  /** A substring of the reason (BitBroker's clients match on these), or the exact reason. */
  reason: string | RegExp;
}

/**
 * BitBroker's validation order and error reports (section 3 of the contract;
 * `tests/contributor.js` upstream), with one more check on every rejection:
 * nothing was written (records, buffered operations, outbox).
 */
describeWithInfrastructure('contributor-ingest: validation', () => {
  let env: TestEnvironment;
  let platform: IngestPlatform;
  let api: ApiClient;
  let connector: CreatedConnector;
  let stream: string;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startIngestPlatform(env, { ingest: { MAX_BODY_SIZE: '64kb' } });
    api = platform.api;
    await createEntityType(platform.admin, 'measure', { name: 'Measures', description: 'Values from 0 to 100', schema: schema1 });
    connector = await createConnector(platform.admin, 'measure', 'meter');
    stream = (await api.get(`/connector/${connector.id}/session/open/stream`)).body;
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  const action = (verb: string, cid = connector.id, sid = stream) => `/connector/${cid}/session/${sid}/${verb}`;

  /** Sends a request that must be refused, and checks that nothing at all was written. */
  async function refused(send: () => Promise<ApiResponse>, status: number): Promise<ApiResponse> {
    const before = await writeSnapshot(platform.db);
    const response = await send();
    expect(response.status).toBe(status);
    expect(await writeSnapshot(platform.db)).toEqual(before);
    return response;
  }

  async function badRequest(send: () => Promise<ApiResponse>, expected: Expected[]): Promise<void> {
    const { body } = await refused(send, 400);
    expect(body.error).toMatchObject({ code: 400, status: 'Bad Request' });
    const errors: Array<{ name: string; index: number | null; reason: string }> = body.error.message;
    expect(errors).toHaveLength(expected.length);
    // jsonschema's order among the problems of one value is its own: match each expectation to a distinct error.
    const unmatched = [...errors];
    for (const wanted of expected) {
      const at = unmatched.findIndex(
        (error) =>
          error.name === wanted.name &&
          error.index === (wanted.index ?? null) &&
          (typeof wanted.reason === 'string' ? error.reason.toLowerCase().includes(wanted.reason.toLowerCase()) : wanted.reason.test(error.reason)),
      );
      if (at < 0) throw new Error(`no error ${JSON.stringify(wanted)} in ${JSON.stringify(errors)}`);
      unmatched.splice(at, 1);
    }
  }

  const upsert = (records: unknown, cid?: string, sid?: string) => () => api.post(action('upsert', cid, sid), records);
  const remove = (ids: unknown, cid?: string, sid?: string) => () => api.post(action('delete', cid, sid), ids);

  describe('path ids, mode, action and commit', () => {
    it('opening: a bad contribution id is 400 "id"; a bad mode is 400 "mode" (enum); both are reported together', async () => {
      await badRequest(() => api.get(`/connector/${UNKNOWN_CID}x/session/open/stream`), [{ name: 'id', reason: 'does not meet maximum length of 40' }]);
      await badRequest(() => api.get(`/connector/${UNKNOWN_CID.toUpperCase()}/session/open/stream`), [
        { name: 'id', reason: 'does not match pattern "^[a-z0-9]+$"' },
      ]);
      await badRequest(() => api.get(`/connector/short/session/open/stream`), [{ name: 'id', reason: 'does not meet minimum length of 40' }]);
      await badRequest(() => api.get(`/connector/${connector.id}/session/open/sometimes`), [
        { name: 'mode', reason: 'is not one of enum values: accrue,stream,replace' },
      ]);
      await badRequest(() => api.get(`/connector/x/session/open/never`), [
        { name: 'id', reason: 'does not meet minimum length' },
        { name: 'mode', reason: 'is not one of enum values' },
      ]);
    });

    it('opening a session of an unknown connector is 404 and opens nothing', async () => {
      const { body } = await refused(() => api.get(`/connector/${UNKNOWN_CID}/session/open/stream`), 404);
      expect(body).toEqual({ error: { code: 404, status: 'Not Found', message: '' } });
    });

    it('posting: bad cid, bad sid (both "id") and a bad action (enum) are reported together, before the body', async () => {
      await badRequest(upsert([record], `${UNKNOWN_CID}x`), [{ name: 'id', reason: 'does not meet maximum length' }]);
      await badRequest(upsert([record], undefined, `${UNKNOWN_SID}x`), [{ name: 'id', reason: 'does not meet maximum length of 36' }]);
      await badRequest(upsert([record], undefined, UNKNOWN_SID.toUpperCase()), [{ name: 'id', reason: 'does not match pattern' }]);
      await badRequest(() => api.post(action('merge'), [record]), [{ name: 'action', reason: 'is not one of enum values: upsert,delete' }]);
      // The body is only checked for upsert and delete, and is reported with the path errors.
      await badRequest(() => api.post(action('merge', 'X'), { not: 'an array' }), [
        { name: 'id', reason: 'does not meet minimum length' },
        { name: 'id', reason: 'does not match pattern' },
        { name: 'action', reason: 'is not one of enum values' },
      ]);
      await badRequest(upsert({}, 'X'), [
        { name: 'id', reason: 'does not meet minimum length' },
        { name: 'id', reason: 'does not match pattern' },
        { name: 'records', reason: 'is not of a type(s) array' },
      ]);
    });

    it('closing: bad ids are 400 "id", a bad commit is 400 "commit" (enum)', async () => {
      await badRequest(() => api.get(`/connector/${UNKNOWN_CID}x/session/${stream}/close/true`), [{ name: 'id', reason: 'does not meet maximum length' }]);
      await badRequest(() => api.get(`/connector/${connector.id}/session/${UNKNOWN_SID}X/close/true`), [
        { name: 'id', reason: 'does not meet maximum length' },
        { name: 'id', reason: 'does not match pattern' },
      ]);
      await badRequest(() => api.get(`/connector/${connector.id}/session/${stream}/close/maybe`), [
        { name: 'commit', reason: 'is not one of enum values: true,false' },
      ]);
    });

    it('closing: an unknown connector is 404, a wrong session 401; the session stays open', async () => {
      await refused(() => api.get(`/connector/${UNKNOWN_CID}/session/${stream}/close/true`), 404);
      const { body } = await refused(() => api.get(`/connector/${connector.id}/session/${UNKNOWN_SID}/close/true`), 401);
      expect(body).toEqual({ error: { code: 401, status: 'Unauthorized', message: '' } });
      expect((await api.post(action('upsert'), [])).status).toBe(200);
    });
  });

  describe('the records', () => {
    it('malformed JSON is 400 "syntax" (unexpected token) in the error envelope', async () => {
      // What BitBroker's tests send (its client JSON-encodes null, '' and 'lorem'), and raw text.
      for (const text of ['lorem', 'null', '""', '"lorem"', '[1, lorem]']) {
        for (const verb of ['upsert', 'delete']) {
          const { body } = await refused(() => api.post(action(verb), text), 400);
          expect(body.error.message).toHaveLength(1);
          expect(body.error.message[0]).toMatchObject({ name: 'syntax', index: null });
          expect(body.error.message[0].reason.toLowerCase()).toContain('unexpected token');
        }
      }
      // Other syntax errors have Node's other wordings, under the same name.
      for (const text of ['[{"id": ', '[{"id": "1", lorem}]']) {
        const { body } = await refused(() => api.post(action('upsert'), text), 400);
        expect(body.error.message).toEqual([{ name: 'syntax', index: null, reason: expect.any(String) }]);
      }
    });

    it('a body over MAX_BODY_SIZE is 413 in the error envelope', async () => {
      const big = Array.from({ length: 200 }, (_, i) => ({ ...record, id: `big-${i}`, name: 'x'.repeat(256), instance: { text: 'y'.repeat(400) } }));
      expect(JSON.stringify(big).length).toBeGreaterThan(64 * 1024);
      const { body } = await refused(() => api.post(action('upsert'), big), 413);
      expect(body.error).toMatchObject({ code: 413, status: 'Payload Too Large' });
      expect(body.error.message).toMatch(/larger than/);
    });

    it('records must be an array (a missing body, an object, a record)', async () => {
      for (const verb of ['upsert', 'delete']) {
        await badRequest(() => api.post(action(verb)), [{ name: 'records', reason: 'is not of a type(s) array' }]);
        await badRequest(() => api.post(action(verb), {}), [{ name: 'records', reason: 'is not of a type(s) array' }]);
        await badRequest(() => api.post(action(verb), record), [{ name: 'records', reason: 'is not of a type(s) array' }]);
      }
      // Not JSON at all: the parser leaves the body alone, and it is still not an array.
      await badRequest(() => api.post(action('upsert'), '[]', { 'content-type': 'text/plain' }), [{ name: 'records', reason: 'is not of a type' }]);
    });

    it('at most 250 records', async () => {
      await badRequest(upsert(Array(251).fill(record)), [{ name: 'records', reason: 'does not meet maximum length of 250' }]);
      await badRequest(remove(Array(251).fill('1')), [{ name: 'records', reason: 'does not meet maximum length of 250' }]);
      expect((await api.post(action('upsert'), Array(250).fill(record))).status).toBe(200);
    });

    it('missing properties: requires property "id", "name", "entity"', async () => {
      await badRequest(upsert([{}]), [
        { name: 'records', index: 0, reason: 'requires property "id"' },
        { name: 'records', index: 0, reason: 'requires property "name"' },
        { name: 'records', index: 0, reason: 'requires property "entity"' },
      ]);
      await badRequest(upsert([record, { id: '1', name: 'alice' }]), [{ name: 'records', index: 1, reason: 'requires property "entity"' }]);
    });

    it('extra properties are rejected, not ignored', async () => {
      await badRequest(upsert([{ ...record, foo: 1 }]), [
        { name: 'records', index: 0, reason: 'is not allowed to have the additional property "foo"' },
      ]);
      await badRequest(upsert([record, record, { ...record, bar: { foo: 1 } }]), [
        { name: 'records', index: 2, reason: 'not allowed to have the additional property' },
      ]);
    });

    it('wrong types and lengths', async () => {
      const cases: Array<[object, string, string]> = [
        [{ id: 123 }, 'records.id', 'is not of a type(s) string'],
        [{ id: null }, 'records.id', 'is not of a type(s) string'],
        [{ id: [] }, 'records.id', 'is not of a type(s) string'],
        [{ id: '' }, 'records.id', 'does not meet minimum length of 1'],
        [{ id: 'x'.repeat(257) }, 'records.id', 'does not meet maximum length of 256'],
        [{ name: 123 }, 'records.name', 'is not of a type(s) string'],
        [{ name: null }, 'records.name', 'is not of a type(s) string'],
        [{ name: '' }, 'records.name', 'does not meet minimum length of 1'],
        [{ name: 'x'.repeat(257) }, 'records.name', 'does not meet maximum length of 256'],
        [{ entity: 123 }, 'records.entity', 'is not of a type(s) object'],
        [{ entity: null }, 'records.entity', 'is not of a type(s) object'],
        [{ entity: [] }, 'records.entity', 'is not of a type(s) object'],
        [{ entity: '' }, 'records.entity', 'is not of a type(s) object'],
        [{ instance: 'text' }, 'records.instance', 'is not of a type(s) object'],
      ];
      for (const [change, name, reason] of cases) {
        await badRequest(upsert([record, { ...record, ...change }]), [{ name, index: 1, reason }]);
      }
      for (const id of [123, null, {}, []]) {
        await badRequest(remove(['ok', id]), [{ name: 'records', index: 1, reason: 'is not of a type(s) string' }]);
      }
      // Every problem of every record is reported.
      await badRequest(upsert([{ ...record, id: 1 }, { ...record, name: '' }]), [
        { name: 'records.id', index: 0, reason: 'is not of a type' },
        { name: 'records.name', index: 1, reason: 'does not meet minimum length' },
      ]);
    });

    it('text PostgreSQL cannot store (a NUL character) is 400, in a stream or an accrue session, and writes nothing', async () => {
      for (const mode of ['accrue', 'stream']) {
        const sid = (await api.get(`/connector/${connector.id}/session/open/${mode}`)).body;
        for (const bad of [{ name: 'nul\u0000name' }, { id: 'nul\u0000id' }, { entity: { value: 1, note: 'a\u0000b' } }, { instance: { n: '\u0000' } }]) {
          await badRequest(upsert([{ ...record, id: 'fine' }, { ...record, ...bad }], undefined, sid), [{ name: 'records', index: 1, reason: 'NUL' }]);
        }
        await badRequest(remove(['fine', 'nul\u0000id'], undefined, sid), [{ name: 'records', index: 1, reason: 'NUL' }]);
        stream = sid;
      }
    });

    it('a batch with any invalid record writes none of it', async () => {
      const before = await vendorIds(platform.db, connector.id);
      await badRequest(upsert([{ ...record, id: 'good-1' }, { ...record, id: 'bad', entity: { value: -1 } }]), [
        { name: 'records.entity.value', index: 1, reason: 'must be greater than or equal to 0' },
      ]);
      expect(await vendorIds(platform.db, connector.id)).toEqual(before);
    });
  });

  it('in an accrue session, a rejected batch is not buffered, and the commit applies only what was accepted', async () => {
    const sid = (await api.get(`/connector/${connector.id}/session/open/accrue`)).body;
    expect((await api.post(action('upsert', undefined, sid), [{ ...record, id: 'kept' }])).status).toBe(200);
    await badRequest(upsert([{ ...record, id: 'bad', entity: { value: 1000 } }], undefined, sid), [
      { name: 'records.entity.value', index: 0, reason: 'must be less than or equal' },
    ]);
    await badRequest(upsert([{ ...record, id: 'bad', more: 1 }], undefined, sid), [{ name: 'records', index: 0, reason: 'additional property' }]);
    await refused(() => api.post(action('upsert', undefined, sid), '[{"id": '), 400);
    await refused(() => api.post(action('upsert', undefined, sid), Array(300).fill({ ...record, name: 'z'.repeat(250) })), 413);
    expect((await api.get(`/connector/${connector.id}/session/${sid}/close/true`)).status).toBe(200);
    expect(await vendorIds(platform.db, connector.id)).not.toContain('bad');
    expect(await vendorIds(platform.db, connector.id)).toContain('kept');
    stream = (await api.get(`/connector/${connector.id}/session/open/stream`)).body;
  });

  describe('the order of the checks', () => {
    it('an unknown connector is 404 only once the body is valid', async () => {
      await badRequest(upsert([{}], UNKNOWN_CID), [
        { name: 'records', index: 0, reason: 'requires property "id"' },
        { name: 'records', index: 0, reason: 'requires property "name"' },
        { name: 'records', index: 0, reason: 'requires property "entity"' },
      ]);
      await refused(upsert([record], UNKNOWN_CID), 404);
      await refused(remove(['1'], UNKNOWN_CID), 404);
      // The entity schema is the connector's type's: an unknown connector has none, so 404.
      await refused(upsert([{ ...record, entity: { value: -1 } }], UNKNOWN_CID), 404);
    });

    it('a wrong session is 401, before the entity schema is looked at', async () => {
      await refused(upsert([record], undefined, UNKNOWN_SID), 401);
      await refused(remove(['R1'], undefined, UNKNOWN_SID), 401);
      await refused(upsert([{ ...record, entity: { value: -1 } }], undefined, UNKNOWN_SID), 401);
      // But a malformed record is still a 400 first.
      await badRequest(upsert([{ ...record, extra: true }], undefined, UNKNOWN_SID), [{ name: 'records', index: 0, reason: 'additional property' }]);
    });
  });

  describe("the entity type's JSON Schema", () => {
    it('accepts valid entities', async () => {
      for (const value of [0, 50, 100]) {
        expect((await api.post(action('upsert'), [{ ...record, entity: { value } }])).status).toBe(200);
      }
    });

    it('reports violations as records.entity.<path> with the record index', async () => {
      await badRequest(upsert([{ ...record, entity: { value: -1 } }]), [
        { name: 'records.entity.value', index: 0, reason: 'must be greater than or equal to 0' },
      ]);
      await badRequest(upsert([{ ...record, entity: { value: 101 } }]), [
        { name: 'records.entity.value', index: 0, reason: 'must be less than or equal to 100' },
      ]);
      for (const value of [0.5, [], '']) {
        await badRequest(upsert([{ ...record, entity: { value } }]), [{ name: 'records.entity.value', index: 0, reason: 'is not of a type(s) integer' }]);
      }
      const valid = { ...record, entity: { value: 1 } };
      const invalid = { ...record, entity: { value: -1 } };
      const small = (index: number) => ({ name: 'records.entity.value', index, reason: 'must be greater than or equal' });
      await badRequest(upsert([valid, invalid]), [small(1)]);
      await badRequest(upsert([valid, valid, invalid]), [small(2)]);
      await badRequest(upsert([invalid, valid, invalid]), [small(0), small(2)]);
    });

    it('follows a schema change (enum, required)', async () => {
      await expectUpdated({ schema: schema2 });
      const sid = (await api.get(`/connector/${connector.id}/session/open/stream`)).body;
      for (const value of ['apple', 'banana', 'cantaloupe']) {
        expect((await api.post(action('upsert', undefined, sid), [{ ...record, entity: { value } }])).status).toBe(200);
      }
      await badRequest(upsert([{ ...record, entity: { value: 'melon' } }], undefined, sid), [
        { name: 'records.entity.value', index: 0, reason: 'is not one of enum values' },
      ]);
      await badRequest(upsert([{ ...record, entity: {} }], undefined, sid), [{ name: 'records.entity', index: 0, reason: 'requires property "value"' }]);
      // The old rules no longer apply.
      await badRequest(upsert([{ ...record, entity: { value: 1 } }], undefined, sid), [
        { name: 'records.entity.value', index: 0, reason: 'is not of a type(s) string' },
        { name: 'records.entity.value', index: 0, reason: 'is not one of enum values' },
      ]);
      stream = sid;
    });

    it('a lenient schema ({"type": "foobar"}) accepts anything, and an empty one too', async () => {
      for (const schema of [schema3, {}]) {
        await expectUpdated({ schema });
        const sid = (await api.get(`/connector/${connector.id}/session/open/stream`)).body;
        const response = await api.post(action('upsert', undefined, sid), [
          { ...record, id: '123', entity: { value: -1 } },
          { ...record, id: '456', entity: { anything: ['goes'] } },
          { ...record, id: '789', entity: {} },
        ]);
        expect(response.status).toBe(200);
        expect(Object.keys(response.body)).toEqual(['123', '456', '789']);
        stream = sid;
      }
    });
  });

  async function expectUpdated(change: object) {
    const { status } = await platform.admin.put('/entity/measure', { name: 'Measures', description: 'Values', ...change });
    expect(status).toBe(204);
  }
});
