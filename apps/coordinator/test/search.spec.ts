import { ApiClient, describeWithInfrastructure } from '@odb/testing';
import { fieldErrors, openPolicy, useCoordinator, userBody } from './coordinator.support';

const SEARCHES = ['/search/user/organization', '/search/entity/tags', '/search/policy/tags'];

describeWithInfrastructure('coordinator: search', () => {
  let api: ApiClient;

  // User 1's organization is "Test Org".
  useCoordinator(async (coordinator) => {
    api = coordinator.api;
    const organizations = ['Acme Corp', 'Acme Corp', 'acme labs', 'Beta Acme', '100% Data', 'a_b labs', 'A.B. Corp', 'Back\\slash'];
    for (const [i, organization] of organizations.entries()) {
      expect((await api.post('/user', userBody(`User ${i}`, `user${i}@example.org`, organization))).status).toBe(201);
    }
    const entity = (tags: string[]) => ({ name: 'E', description: 'An entity type', tags });
    expect((await api.post('/entity/first', entity(['Geo', 'geology', 'world']))).status).toBe(201);
    expect((await api.post('/entity/second', entity(['geo', 'GEO-data', 'rivers']))).status).toBe(201);
    expect((await api.post('/entity/third', entity(['world', 'x%y', 'x_y', 'x.y']))).status).toBe(201);
    expect((await api.post('/policy/open', { ...openPolicy, tags: ['open', 'Open-Data', 'public'] })).status).toBe(201);
    expect((await api.post('/policy/closed', { ...openPolicy, tags: ['open', 'opaque', 'private'] })).status).toBe(201);
  });

  const search = async (path: string, q: string) => {
    const response = await api.get(`${path}?q=${encodeURIComponent(q)}`);
    expect([path, q, response.status]).toEqual([path, q, 200]);
    return [...(response.body as string[])].sort();
  };

  describe('user organizations', () => {
    it('finds distinct organizations starting with q, case-insensitively', async () => {
      const path = '/search/user/organization';
      expect(await search(path, 'acme')).toEqual(['Acme Corp', 'acme labs']);
      expect(await search(path, 'ACME C')).toEqual(['Acme Corp']);
      expect(await search(path, 'test')).toEqual(['Test Org']);
      expect(await search(path, 'corp')).toEqual([]);
    });
  });

  describe('entity type tags', () => {
    it('finds distinct tags starting with q, case-insensitively', async () => {
      const path = '/search/entity/tags';
      expect(await search(path, 'geo')).toEqual(['GEO-data', 'Geo', 'geo', 'geology']);
      expect(await search(path, 'GEO-')).toEqual(['GEO-data']);
      expect(await search(path, 'world')).toEqual(['world']);
      expect(await search(path, 'open')).toEqual([]);
    });
  });

  describe('policy tags', () => {
    it('finds distinct tags starting with q, case-insensitively', async () => {
      const path = '/search/policy/tags';
      expect(await search(path, 'op')).toEqual(['Open-Data', 'opaque', 'open']);
      expect(await search(path, 'OPEN')).toEqual(['Open-Data', 'open']);
      expect(await search(path, 'p')).toEqual(['private', 'public']);
      expect(await search(path, 'geo')).toEqual([]);
    });
  });

  describe('q', () => {
    it('must be 1 to 16 characters, on every search', async () => {
      const tooShort = [{ name: 'search', index: null, reason: 'does not meet minimum length of 1' }];
      const tooLong = [{ name: 'search', index: null, reason: 'does not meet maximum length of 16' }];
      const cases: Array<[string, number, unknown]> = [
        ['', 400, tooShort],
        ['?q=', 400, tooShort],
        ['?other=x', 400, tooShort],
        [`?q=${'a'.repeat(17)}`, 400, tooLong],
        [`?q=${'a'.repeat(16)}`, 200, []],
        ['?q=a', 200, undefined],
      ];
      for (const path of SEARCHES) {
        for (const [query, status, body] of cases) {
          const response = await api.get(`${path}${query}`);
          expect([path, query, response.status]).toEqual([path, query, status]);
          if (status === 400) expect(fieldErrors(response)).toEqual(body);
          else if (body) expect(response.body).toEqual(body);
        }
      }
    });

    it('takes LIKE wildcards and regular expression characters literally', async () => {
      const organizations = '/search/user/organization';
      expect(await search(organizations, '%')).toEqual([]);
      expect(await search(organizations, '100%')).toEqual(['100% Data']);
      expect(await search(organizations, '_')).toEqual([]);
      expect(await search(organizations, 'a_')).toEqual(['a_b labs']);
      expect(await search(organizations, '.')).toEqual([]);
      expect(await search(organizations, 'a.')).toEqual(['A.B. Corp']);
      expect(await search(organizations, '.*')).toEqual([]);
      expect(await search(organizations, '^acme')).toEqual([]);
      expect(await search(organizations, '[ab]')).toEqual([]);
      expect(await search(organizations, '(')).toEqual([]);
      expect(await search(organizations, '\\')).toEqual([]);
      expect(await search(organizations, 'back\\')).toEqual(['Back\\slash']);

      const tags = '/search/entity/tags';
      expect(await search(tags, 'x%')).toEqual(['x%y']);
      expect(await search(tags, 'x_')).toEqual(['x_y']);
      expect(await search(tags, 'x.')).toEqual(['x.y']);
      expect(await search(tags, 'x')).toEqual(['x%y', 'x.y', 'x_y']);
      expect(await search('/search/policy/tags', '%')).toEqual([]);
      expect(await search('/search/policy/tags', 'o.')).toEqual([]);
    });
  });
});
