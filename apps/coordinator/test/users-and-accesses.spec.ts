import { ApiClient, describeWithInfrastructure } from '@odb/testing';
import { BOOTSTRAP, TOKEN_PATTERN, errorLines, fieldErrors, openPolicy, useCoordinator, userBody } from './coordinator.support';

describeWithInfrastructure('coordinator: users and accesses', () => {
  let api: ApiClient;
  let base: string;
  useCoordinator((coordinator) => {
    api = coordinator.api;
    base = coordinator.service.api;
  });

  /** Creates a user and returns its id, read from the Location header. */
  async function createUser(body: object): Promise<number> {
    const response = await api.post('/user', body);
    expect(response.status).toBe(201);
    return Number(response.headers.get('location')!.split('/').pop());
  }

  const bootstrapBrief = () => ({
    id: 1,
    url: `${base}/user/1`,
    name: BOOTSTRAP.name,
    email: BOOTSTRAP.email.toLowerCase(),
    organization: BOOTSTRAP.organization,
    coordinator: true,
    accesses: [],
  });

  describe('users', () => {
    it('has the bootstrap user 1 from BOOTSTRAP_*, with its email lower-cased, as a coordinator', async () => {
      const { status, body } = await api.get('/user/1');
      expect(status).toBe(200);
      expect(body).toEqual({ ...bootstrapBrief(), addendum: {} });
    });

    it('lists exactly user 1 on a fresh system', async () => {
      const { status, body } = await api.get('/user');
      expect(status).toBe(200);
      expect(body).toEqual([bootstrapBrief()]);
    });

    it('creates a user: 201, Location …/user/<id>, empty body; the email is stored lower-cased', async () => {
      const created = await api.post('/user', userBody('Alice', 'Alice@Example.ORG', 'Acme Corp'));
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${base}/user/2`);
      expect(created.text).toBe('');
      expect((await api.get('/user/2')).body).toEqual({
        id: 2,
        url: `${base}/user/2`,
        name: 'Alice',
        email: 'alice@example.org',
        organization: 'Acme Corp',
        coordinator: false,
        accesses: [],
        addendum: {},
      });
    });

    it('refuses a second user with the same email, whatever its case, with 409', async () => {
      expect(await api.post('/user', userBody('Other Alice', 'ALICE@example.org'))).toMatchObject({
        status: 409,
        body: { error: { code: 409, status: 'Conflict', message: '' } },
      });
      expect((await api.post('/user', userBody('Admin again', 'admin@example.org'))).status).toBe(409);
    });

    it('finds a user by email, case-insensitively', async () => {
      const { status, body } = await api.get('/user/email/ALICE@Example.org');
      expect(status).toBe(200);
      expect(body).toMatchObject({ id: 2, email: 'alice@example.org', addendum: {} });
      expect((await api.get(`/user/email/${encodeURIComponent(BOOTSTRAP.email.toUpperCase())}`)).body.id).toBe(1);
      expect((await api.get('/user/email/nobody@example.org')).status).toBe(404);
    });

    it('validates a new user, reporting every problem', async () => {
      const empty = await api.post('/user', {});
      expect(empty.status).toBe(400);
      expect(errorLines(empty)).toEqual(
        expect.arrayContaining([
          'name: does not meet minimum length of 1',
          'email: does not meet minimum length of 1',
          'organization: does not meet minimum length of 1',
        ]),
      );

      const bad = await api.post('/user', { name: 'x'.repeat(65), email: 'not-an-email', organization: 'y'.repeat(65), addendum: 'extra' });
      expect(bad.status).toBe(400);
      expect(errorLines(bad)).toEqual(
        expect.arrayContaining([
          'name: does not meet maximum length of 64',
          'email: does not conform to the "email" format',
          'organization: does not meet maximum length of 64',
          'addendum: is not of a type(s) object',
        ]),
      );
      expect(errorLines(bad)).toHaveLength(4);
      expect((await api.get('/user')).body).toHaveLength(2);
    });

    it('keeps the addendum as given (an opaque object), and an empty one when none is given', async () => {
      const addendum = { portal: { theme: 'dark', favourites: ['a', 'b'] }, consent: true, n: 3 };
      const id = await createUser(userBody('Bob', 'bob@example.org', 'Beta Labs', addendum));
      expect(id).toBe(3);
      expect((await api.get('/user/3')).body.addendum).toEqual(addendum);
      expect((await api.get('/user/email/bob@example.org')).body.addendum).toEqual(addendum);
    });

    it('never reuses an id: a deleted user leaves a gap', async () => {
      const id = await createUser(userBody('Carol', 'carol@example.org'));
      expect(id).toBe(4);
      const deleted = await api.delete('/user/4');
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expect((await api.get('/user/4')).status).toBe(404);
      expect((await api.delete('/user/4')).status).toBe(404);
      expect(await createUser(userBody('Carol again', 'carol@example.org'))).toBe(5);
      expect((await api.get('/user')).body.map((user: { id: number }) => user.id)).toEqual([1, 2, 3, 5]);
    });

    it('answers 404 for a user id that is not 1–8 digits, on every /user/:uid route', async () => {
      expect((await api.post('/policy/known-policy', openPolicy)).status).toBe(201);
      for (const uid of ['abc', '1.5', '-1', '2x', '123456789', '%20', '999']) {
        const calls: Array<[string, Promise<{ status: number }>]> = [
          ['GET user', api.get(`/user/${uid}`)],
          ['PUT user', api.put(`/user/${uid}`, userBody('Name', 'x@example.org'))],
          ['DELETE user', api.delete(`/user/${uid}`)],
          ['POST coordinator', api.post(`/user/${uid}/coordinator`)],
          ['DELETE coordinator', api.delete(`/user/${uid}/coordinator`)],
          ['GET accesses', api.get(`/user/${uid}/access`)],
          ['GET access', api.get(`/user/${uid}/access/known-policy`)],
          ['POST access', api.post(`/user/${uid}/access/known-policy`)],
          ['PUT access', api.put(`/user/${uid}/access/known-policy`)],
          ['DELETE access', api.delete(`/user/${uid}/access/known-policy`)],
        ];
        for (const [what, call] of calls) {
          expect([uid, what, (await call).status]).toEqual([uid, what, 404]);
        }
      }
      expect((await api.delete('/policy/known-policy')).status).toBe(204);
    });

    it('updates name, organization and addendum (204) and ignores the email', async () => {
      const response = await api.put('/user/2', {
        name: 'Alice Smith',
        email: 'changed@example.org',
        organization: 'Acme Labs',
        addendum: { team: 'data' },
      });
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect((await api.get('/user/2')).body).toMatchObject({
        name: 'Alice Smith',
        email: 'alice@example.org',
        organization: 'Acme Labs',
        addendum: { team: 'data' },
      });
      expect((await api.get('/user/email/changed@example.org')).status).toBe(404);
    });

    it('does not validate the email on update (it is ignored), and a missing addendum becomes {}', async () => {
      expect((await api.put('/user/2', { name: 'Alice Smith', email: 'not-an-email', organization: 'Acme Labs' })).status).toBe(204);
      expect((await api.get('/user/2')).body).toMatchObject({ email: 'alice@example.org', addendum: {} });
    });

    it('validates name, organization and addendum on update, before checking that the user exists', async () => {
      const bad = { name: '', organization: 'o'.repeat(65), addendum: 'nope' };
      for (const uid of ['2', '999']) {
        const response = await api.put(`/user/${uid}`, bad);
        expect(response.status).toBe(400);
        expect(fieldErrors(response)).toEqual(
          expect.arrayContaining([
            { name: 'name', index: null, reason: 'does not meet minimum length of 1' },
            { name: 'organization', index: null, reason: 'does not meet maximum length of 64' },
            { name: 'addendum', index: null, reason: 'is not of a type(s) object' },
          ]),
        );
        expect(fieldErrors(response)).toHaveLength(3);
      }
      expect((await api.put('/user/999', userBody('Nobody', 'n@example.org'))).status).toBe(404);
      expect((await api.get('/user/2')).body.name).toBe('Alice Smith');
    });

    it('promotes a user to coordinator: 200 with a token that works as a coordinator token', async () => {
      const promoted = await api.post('/user/2/coordinator');
      expect(promoted.status).toBe(200);
      expect(promoted.text).toMatch(TOKEN_PATTERN);
      expect((await api.get('/user/2')).body.coordinator).toBe(true);
      const asAlice = new ApiClient(base, { 'x-bbk-auth-token': promoted.text });
      expect((await asAlice.get('/user/2')).status).toBe(200);
      expect((await asAlice.post('/entity/made-by-alice', { name: 'A', description: 'B' })).status).toBe(201);
    });

    it('refuses to promote a coordinator again (409), user 1 included', async () => {
      expect((await api.post('/user/2/coordinator')).status).toBe(409);
      expect((await api.post('/user/1/coordinator')).status).toBe(409);
    });

    it('demotes a coordinator (204), then refuses to demote again (409)', async () => {
      const demoted = await api.delete('/user/2/coordinator');
      expect(demoted.status).toBe(204);
      expect(demoted.text).toBe('');
      expect((await api.get('/user/2')).body.coordinator).toBe(false);
      expect((await api.delete('/user/2/coordinator')).status).toBe(409);
      expect((await api.delete('/user/3/coordinator')).status).toBe(409);
    });

    it('can promote a demoted user again, with a new token', async () => {
      const again = await api.post('/user/2/coordinator');
      expect(again.status).toBe(200);
      expect(again.text).toMatch(TOKEN_PATTERN);
      expect((await api.delete('/user/2/coordinator')).status).toBe(204);
    });
  });

  describe('accesses', () => {
    beforeAll(async () => {
      expect((await api.post('/policy/zebra-crossings', { ...openPolicy, name: 'Zebra' })).status).toBe(201);
      expect((await api.post('/policy/all-countries', { ...openPolicy, name: 'Countries' })).status).toBe(201);
      expect((await api.post('/policy/doomed', { ...openPolicy, name: 'Doomed' })).status).toBe(201);
    });

    const accessOf = (uid: number, pid: string) => ({
      id: pid,
      url: `${base}/user/${uid}/access/${pid}`,
      policy: { id: pid, url: `${base}/policy/${pid}` },
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/),
    });

    it('starts with none', async () => {
      expect(await api.get('/user/2/access')).toMatchObject({ status: 200, body: [] });
    });

    it('creates one: 201, Location = the request URL, the consumer token as the body', async () => {
      const created = await api.post('/user/2/access/Zebra-Crossings');
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${base}/user/2/access/Zebra-Crossings`);
      expect(created.text).toMatch(TOKEN_PATTERN);
    });

    it('answers 404 for an unknown policy or user, and 409 for a duplicate', async () => {
      expect((await api.post('/user/2/access/no-such-policy')).status).toBe(404);
      expect((await api.post('/user/999/access/all-countries')).status).toBe(404);
      expect((await api.post('/user/999/access/no-such-policy')).status).toBe(404);
      expect(await api.post('/user/2/access/zebra-crossings')).toMatchObject({
        status: 409,
        body: { error: { code: 409, status: 'Conflict', message: '' } },
      });
      expect((await api.get('/user/2/access')).body).toHaveLength(1);
    });

    it('lists accesses in creation order, not by id', async () => {
      expect((await api.post('/user/2/access/all-countries')).status).toBe(201);
      expect((await api.post('/user/2/access/doomed')).status).toBe(201);
      const { status, body } = await api.get('/user/2/access');
      expect(status).toBe(200);
      expect(body).toEqual([accessOf(2, 'zebra-crossings'), accessOf(2, 'all-countries'), accessOf(2, 'doomed')]);
    });

    it('gets one access', async () => {
      const { status, body } = await api.get('/user/2/access/All-Countries');
      expect(status).toBe(200);
      expect(body).toEqual(accessOf(2, 'all-countries'));
      expect((await api.get('/user/2/access/no-such-policy')).status).toBe(404);
      expect((await api.get('/user/3/access/all-countries')).status).toBe(404);
    });

    it('shows the accesses on the user and in the user list', async () => {
      expect((await api.post('/user/3/access/all-countries')).status).toBe(201);
      const links = (uid: number, pids: string[]) => pids.map((pid) => ({ id: pid, url: `${base}/user/${uid}/access/${pid}` }));
      expect((await api.get('/user/2')).body.accesses).toEqual(links(2, ['zebra-crossings', 'all-countries', 'doomed']));
      expect((await api.get('/user/email/alice@example.org')).body.accesses).toEqual(links(2, ['zebra-crossings', 'all-countries', 'doomed']));
      const list = (await api.get('/user')).body;
      expect(list.map((user: { id: number; accesses: unknown[] }) => [user.id, user.accesses])).toEqual([
        [1, []],
        [2, links(2, ['zebra-crossings', 'all-countries', 'doomed'])],
        [3, links(3, ['all-countries'])],
        [5, []],
      ]);
    });

    it('reissues a token: 200 with a new token', async () => {
      const first = await api.put('/user/2/access/all-countries');
      expect(first.status).toBe(200);
      expect(first.text).toMatch(TOKEN_PATTERN);
      const second = await api.put('/user/2/access/all-countries');
      expect(second.status).toBe(200);
      expect(second.text).toMatch(TOKEN_PATTERN);
      expect(second.text).not.toBe(first.text);
      expect((await api.get('/user/2/access')).body.map((access: { id: string }) => access.id)).toEqual([
        'zebra-crossings',
        'all-countries',
        'doomed',
      ]);
      expect((await api.put('/user/2/access/no-such-policy')).status).toBe(404);
      expect((await api.put('/user/5/access/all-countries')).status).toBe(404);
    });

    it('deletes an access (204), then it is a 404', async () => {
      const deleted = await api.delete('/user/2/access/Zebra-Crossings');
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expect((await api.get('/user/2/access/zebra-crossings')).status).toBe(404);
      expect((await api.delete('/user/2/access/zebra-crossings')).status).toBe(404);
      expect((await api.put('/user/2/access/zebra-crossings')).status).toBe(404);
      expect((await api.get('/user/2')).body.accesses.map((access: { id: string }) => access.id)).toEqual(['all-countries', 'doomed']);
    });

    it('can give the same access again after a delete', async () => {
      expect((await api.post('/user/2/access/zebra-crossings')).status).toBe(201);
      expect((await api.get('/user/2/access')).body.map((access: { id: string }) => access.id)).toEqual([
        'all-countries',
        'doomed',
        'zebra-crossings',
      ]);
    });

    it('removes the accesses of a deleted policy', async () => {
      expect((await api.delete('/policy/doomed')).status).toBe(204);
      expect((await api.get('/user/2/access/doomed')).status).toBe(404);
      expect((await api.get('/user/2/access')).body.map((access: { id: string }) => access.id)).toEqual(['all-countries', 'zebra-crossings']);
      expect((await api.get('/user/2')).body.accesses.map((access: { id: string }) => access.id)).toEqual(['all-countries', 'zebra-crossings']);
    });

    it('removes the accesses of a deleted user, and the policy stays', async () => {
      expect((await api.delete('/user/3')).status).toBe(204);
      expect((await api.get('/user/3/access')).status).toBe(404);
      expect((await api.get('/policy/all-countries')).status).toBe(200);
      expect((await api.get('/user/2/access/all-countries')).status).toBe(200);
    });
  });
});
