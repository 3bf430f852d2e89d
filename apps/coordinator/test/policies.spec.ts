import { ApiClient, describeWithInfrastructure } from '@odb/testing';
import { errorLines, fieldErrors, openPolicy, useCoordinator } from './coordinator.support';

/** A deep copy of the example policy with `change` applied to its `policy` document. */
function policyWith(change: (policy: any) => void) {
  const copy = JSON.parse(JSON.stringify(openPolicy));
  change(copy.policy);
  return copy;
}

const LEGAL_TYPES = 'attribution,contact,license,note,source,terms';

describeWithInfrastructure('coordinator: policies', () => {
  let api: ApiClient;
  let base: string;
  useCoordinator((coordinator) => {
    api = coordinator.api;
    base = coordinator.service.api;
  });

  describe('CRUD', () => {
    it('starts with no policies', async () => {
      expect(await api.get('/policy')).toMatchObject({ status: 200, body: [] });
      expect((await api.get('/policy/everything')).status).toBe(404);
    });

    it('creates one: 201, Location = the request URL, empty body', async () => {
      const created = await api.post('/policy/Everything', openPolicy);
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${base}/policy/Everything`);
      expect(created.text).toBe('');
    });

    it('reads it back whole, under its lower-cased id', async () => {
      const { status, body } = await api.get('/policy/EVERYTHING');
      expect(status).toBe(200);
      expect(body).toEqual({ id: 'everything', url: `${base}/policy/everything`, ...openPolicy });
    });

    it('serves the access control on its own', async () => {
      const { status, body } = await api.get('/policy/everything/access-control');
      expect(status).toBe(200);
      expect(body).toEqual(openPolicy.policy.access_control);
      expect((await api.get('/policy/nothing-here/access-control')).status).toBe(404);
    });

    it('refuses a duplicate with 409, whatever the case of the id', async () => {
      expect(await api.post('/policy/everything', openPolicy)).toMatchObject({
        status: 409,
        body: { error: { code: 409, status: 'Conflict', message: '' } },
      });
      expect((await api.post('/policy/EveryThing', openPolicy)).status).toBe(409);
    });

    it('lists policies sorted by id, as briefs without the policy document', async () => {
      const second = { ...openPolicy, name: 'Countries', tags: [] };
      expect((await api.post('/policy/all-countries', second)).status).toBe(201);
      expect((await api.post('/policy/zz-last', second)).status).toBe(201);
      const { status, body } = await api.get('/policy');
      expect(status).toBe(200);
      expect(body.map((policy: { id: string }) => policy.id)).toEqual(['all-countries', 'everything', 'zz-last']);
      expect(body[1]).toEqual({
        id: 'everything',
        url: `${base}/policy/everything`,
        name: openPolicy.name,
        description: openPolicy.description,
        tags: openPolicy.tags,
      });
    });

    it('updates one (204, empty body) and serves the new values everywhere', async () => {
      const updated = policyWith((policy) => {
        policy.access_control = { enabled: false, quota: { max_number: 10, interval_type: 'month' }, rate: 1 };
        policy.data_segment.segment_query = { type: 'country', 'entity.population': { $gt: 1000000 } };
      });
      updated.name = 'Big countries';
      updated.tags = ['big', 'open'];
      const response = await api.put('/policy/Everything', updated);
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect((await api.get('/policy/everything')).body).toEqual({ id: 'everything', url: `${base}/policy/everything`, ...updated });
      expect((await api.get('/policy/everything/access-control')).body).toEqual(updated.policy.access_control);
      const listed = (await api.get('/policy')).body.find((policy: { id: string }) => policy.id === 'everything');
      expect(listed).toMatchObject({ name: 'Big countries', tags: ['big', 'open'] });
    });

    it('answers 404 to an update of a policy that does not exist', async () => {
      expect(await api.put('/policy/not-there', openPolicy)).toMatchObject({
        status: 404,
        body: { error: { code: 404, status: 'Not Found', message: '' } },
      });
      expect((await api.get('/policy/not-there')).status).toBe(404);
    });

    it('deletes one (204), then it is gone from everywhere and a second delete is a 404', async () => {
      const response = await api.delete('/policy/ZZ-Last');
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect((await api.get('/policy/zz-last')).status).toBe(404);
      expect((await api.get('/policy/zz-last/access-control')).status).toBe(404);
      expect((await api.get('/policy')).body.map((policy: { id: string }) => policy.id)).toEqual(['all-countries', 'everything']);
      expect((await api.delete('/policy/zz-last')).status).toBe(404);
    });

    it('can re-create a deleted policy under the same id', async () => {
      expect((await api.post('/policy/zz-last', openPolicy)).status).toBe(201);
      expect((await api.delete('/policy/zz-last')).status).toBe(204);
    });
  });

  describe('validation', () => {
    it('validates the id: length and pattern, reported as "slug"', async () => {
      const cases: Array<[string, RegExp]> = [
        ['ab', /^slug: does not meet minimum length of 3$/],
        ['a'.repeat(33), /^slug: does not meet maximum length of 32$/],
        ['1abc', /^slug: does not match pattern/],
        ['ab_c', /^slug: does not match pattern/],
        ['-abc', /^slug: does not match pattern/],
      ];
      for (const [slug, expected] of cases) {
        const response = await api.post(`/policy/${slug}`, openPolicy);
        expect(response.status).toBe(400);
        expect(errorLines(response)).toEqual([expect.stringMatching(expected)]);
      }
      expect((await api.post(`/policy/${'a'.repeat(32)}`, openPolicy)).status).toBe(201);
      expect((await api.delete(`/policy/${'a'.repeat(32)}`)).status).toBe(204);
    });

    it('reports every missing property of an empty body', async () => {
      const response = await api.post('/policy/empty-body', {});
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 400, status: 'Bad Request' });
      expect(errorLines(response)).toEqual(
        expect.arrayContaining([
          'name: does not meet minimum length of 1',
          'description: does not meet minimum length of 1',
          'policy: requires property "access_control"',
          'policy: requires property "data_segment"',
          'policy: requires property "legal_context"',
        ]),
      );
      expect(errorLines(response)).toHaveLength(5);
    });

    it('requires data_segment, segment_query and legal_context, with exact names and reasons', async () => {
      const cases: Array<[(policy: any) => void, { name: string; index: null; reason: string }]> = [
        [(policy) => delete policy.data_segment, { name: 'policy', index: null, reason: 'requires property "data_segment"' }],
        [(policy) => delete policy.legal_context, { name: 'policy', index: null, reason: 'requires property "legal_context"' }],
        [(policy) => delete policy.access_control, { name: 'policy', index: null, reason: 'requires property "access_control"' }],
        [
          (policy) => delete policy.data_segment.segment_query,
          { name: 'policy.data_segment', index: null, reason: 'requires property "segment_query"' },
        ],
        [
          (policy) => delete policy.access_control.enabled,
          { name: 'policy.access_control', index: null, reason: 'requires property "enabled"' },
        ],
      ];
      for (const [change, expected] of cases) {
        const response = await api.post('/policy/incomplete', policyWith(change));
        expect(response.status).toBe(400);
        expect(fieldErrors(response)).toEqual([expected]);
      }
    });

    it('names a bad legal context entry with its index', async () => {
      const first = await api.post(
        '/policy/bad-legal',
        policyWith((policy) => (policy.legal_context[0].type = 'copyright')),
      );
      expect(first.status).toBe(400);
      expect(fieldErrors(first)).toEqual([
        { name: 'policy.legal_context.type', index: 0, reason: `is not one of enum values: ${LEGAL_TYPES}` },
      ]);

      const second = await api.post(
        '/policy/bad-legal',
        policyWith((policy) =>
          policy.legal_context.push({ type: 'note', text: '', link: 'ftp://example.org/' }, { type: 'terms', text: 'x', link: null }),
        ),
      );
      expect(second.status).toBe(400);
      expect(fieldErrors(second)).toEqual(
        expect.arrayContaining([
          { name: 'policy.legal_context.text', index: 1, reason: 'does not meet minimum length of 1' },
          { name: 'policy.legal_context.link', index: 1, reason: expect.stringMatching(/^does not match pattern/) },
        ]),
      );
      expect(fieldErrors(second).every((error) => error.index === 1)).toBe(true);
    });

    it('checks the access control values', async () => {
      const response = await api.post(
        '/policy/bad-access',
        policyWith((policy) => (policy.access_control = { enabled: 'yes', quota: { max_number: -1, interval_type: 'week' }, rate: 1.5 })),
      );
      expect(response.status).toBe(400);
      expect(errorLines(response)).toEqual(
        expect.arrayContaining([
          'policy.access_control.enabled: is not of a type(s) boolean',
          'policy.access_control.quota.max_number: must be greater than or equal to 0',
          'policy.access_control.quota.interval_type: is not one of enum values: day,month',
          'policy.access_control.rate: is not of a type(s) integer',
        ]),
      );
    });

    it('runs the segment query through the query validator', async () => {
      const cases: Array<[unknown, string]> = [
        [{ $and: [] }, 'Query cannot be parsed'],
        [{ $or: true }, 'Query cannot be parsed'],
        [{ name: { $foo: 1 } }, 'Query contains unrecognised operations'],
        [{ $foo: 'abc' }, 'Query contains unrecognised operations'],
      ];
      for (const [query, reason] of cases) {
        const response = await api.post(
          '/policy/bad-segment',
          policyWith((policy) => (policy.data_segment.segment_query = query)),
        );
        expect(response.status).toBe(400);
        expect(fieldErrors(response)).toEqual([{ name: 'policy.data_segment.segment_query', index: null, reason }]);
      }
    });

    it('reports a segment query that is not an object both as a type error and as unparsable', async () => {
      for (const query of [true, 'country']) {
        const response = await api.post(
          '/policy/bad-segment',
          policyWith((policy) => (policy.data_segment.segment_query = query)),
        );
        expect(response.status).toBe(400);
        expect(errorLines(response)).toEqual(
          expect.arrayContaining([
            'policy.data_segment.segment_query: is not of a type(s) object',
            'policy.data_segment.segment_query: Query cannot be parsed',
          ]),
        );
      }
    });

    it('checks tags like entity type tags', async () => {
      const cases: Array<[unknown, RegExp]> = [
        ['geo', /^tags: is not of a type\(s\) array$/],
        [['geo', ''], /^tags: does not meet minimum length of 1$/],
        [['geo', 'x'.repeat(65)], /^tags: does not meet maximum length of 64$/],
        [['geo', 'geo'], /^tags: contains duplicate item/],
        [Array.from({ length: 17 }, (_, i) => `tag-${i}`), /^tags: does not meet maximum length of 16$/],
      ];
      for (const [tags, expected] of cases) {
        const response = await api.post('/policy/bad-tags', { ...openPolicy, tags });
        expect(response.status).toBe(400);
        expect(errorLines(response)).toEqual([expect.stringMatching(expected)]);
      }
      const sixteen = Array.from({ length: 16 }, (_, i) => `tag-${i}`);
      expect((await api.post('/policy/many-tags', { ...openPolicy, tags: sixteen })).status).toBe(201);
      expect((await api.get('/policy/many-tags')).body.tags).toEqual(sixteen);
    });

    it('validates before checking existence: a bad update of a missing policy is a 400, a good one a 404', async () => {
      const bad = policyWith((policy) => delete policy.data_segment);
      const response = await api.put('/policy/never-created', bad);
      expect(response.status).toBe(400);
      expect(fieldErrors(response)).toEqual([{ name: 'policy', index: null, reason: 'requires property "data_segment"' }]);
      const badSegment = await api.put(
        '/policy/never-created',
        policyWith((policy) => (policy.data_segment.segment_query = { $or: true })),
      );
      expect(badSegment.status).toBe(400);
      expect((await api.put('/policy/never-created', openPolicy)).status).toBe(404);
    });

    it('validates updates of an existing policy the same way, and changes nothing on a 400', async () => {
      const before = (await api.get('/policy/everything')).body;
      const response = await api.put(
        '/policy/everything',
        policyWith((policy) => (policy.legal_context[0].type = 'copyright')),
      );
      expect(response.status).toBe(400);
      expect(fieldErrors(response)).toEqual([
        { name: 'policy.legal_context.type', index: 0, reason: `is not one of enum values: ${LEGAL_TYPES}` },
      ]);
      expect((await api.get('/policy/everything')).body).toEqual(before);
    });

    it('creates nothing when the body is refused', async () => {
      const ids = (await api.get('/policy')).body.map((policy: { id: string }) => policy.id);
      expect(ids).not.toEqual(expect.arrayContaining(['incomplete', 'bad-legal', 'bad-access', 'bad-segment', 'bad-tags', 'empty-body']));
    });
  });
});
