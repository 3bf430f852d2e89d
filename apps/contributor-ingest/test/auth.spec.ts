import { ApiClient, TestEnvironment, describeWithInfrastructure, waitFor } from '@odb/testing';
import { openPolicy } from '../../coordinator/test/coordinator.support';
import {
  CreatedConnector,
  IngestPlatform,
  country,
  countryType,
  createConnector,
  createEntityType,
  startIngestPlatform,
  vendorIds,
  writeSnapshot,
} from './ingest.support';

const TOKEN_HEADER = 'x-bbk-auth-token';

/**
 * Enforced mode: every Contributor API call needs a contributor token, and
 * (unlike BitBroker, which trusted any contributor token with any known
 * contribution id) only the token of the connector named in the path works.
 */
describeWithInfrastructure('contributor-ingest: tokens (enforced mode)', () => {
  let env: TestEnvironment;
  let platform: IngestPlatform;
  let api: ApiClient;
  let alpha: CreatedConnector;
  let beta: CreatedConnector;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startIngestPlatform(env, { ingest: { AUTH_MODE: 'enforced' } });
    api = platform.api;
    await createEntityType(platform.admin, 'country', countryType);
    alpha = await createConnector(platform.admin, 'country', 'alpha');
    beta = await createConnector(platform.admin, 'country', 'beta');
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  const as = (token?: string): Record<string, string> => (token === undefined ? {} : { [TOKEN_HEADER]: token });
  const open = (connector: CreatedConnector, token?: string, mode = 'stream') =>
    api.get(`/connector/${connector.id}/session/open/${mode}`, as(token));
  const upsert = (connector: CreatedConnector, sid: string, token?: string, records: unknown = [country('GB')]) =>
    api.post(`/connector/${connector.id}/session/${sid}/upsert`, records, as(token));
  const close = (connector: CreatedConnector, sid: string, token?: string) =>
    api.get(`/connector/${connector.id}/session/${sid}/close/true`, as(token));

  /** All three calls, with `token`, on `connector` (whose current session is `sid`): each must be refused with `status`, writing nothing. */
  async function refusedEverywhere(connector: CreatedConnector, sid: string, token: string | undefined, status: number) {
    const before = await writeSnapshot(platform.db);
    for (const response of [await open(connector, token), await upsert(connector, sid, token), await close(connector, sid, token)]) {
      expect(response.status).toBe(status);
      expect(response.body).toEqual({ error: { code: status, status: status === 401 ? 'Unauthorized' : 'Forbidden', message: '' } });
    }
    expect(await writeSnapshot(platform.db)).toEqual(before);
  }

  let alphaSession: string;

  it('works with the connector’s own token', async () => {
    const opened = await open(alpha, alpha.token);
    expect(opened.status).toBe(200);
    alphaSession = opened.body;
    expect((await upsert(alpha, alphaSession, alpha.token)).status).toBe(200);
    expect(await vendorIds(platform.db, alpha.id)).toEqual(['GB']);
  });

  it('401 without a token, or with a malformed or unknown one', async () => {
    await refusedEverywhere(alpha, alphaSession, undefined, 401);
    await refusedEverywhere(alpha, alphaSession, '', 401);
    await refusedEverywhere(alpha, alphaSession, 'not-a-token', 401);
    // Right shape, wrong secret.
    await refusedEverywhere(alpha, alphaSession, alpha.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 401);
  });

  it('401 with a token of another role (coordinator, consumer)', async () => {
    await refusedEverywhere(alpha, alphaSession, platform.coordinator.token, 401);
    expect((await platform.admin.post('/policy/everything', openPolicy)).status).toBe(201);
    const access = await platform.admin.post('/user/1/access/everything');
    expect(access.status).toBe(201);
    await refusedEverywhere(alpha, alphaSession, access.text, 401);
  });

  it('403 with the token of another connector, whatever the path and body', async () => {
    const opened = await open(beta, beta.token);
    expect(opened.status).toBe(200);
    await refusedEverywhere(beta, opened.body, alpha.token, 403);
    await refusedEverywhere(alpha, alphaSession, beta.token, 403);
    // Checked before the body: a malformed batch under a foreign token is still 403.
    expect((await upsert(beta, opened.body, alpha.token, { not: 'an array' })).status).toBe(403);
    // The authentication comes first: no token and a malformed path is 401, not 400.
    expect((await api.get(`/connector/NOT-AN-ID/session/open/stream`)).status).toBe(401);
    expect(await vendorIds(platform.db, beta.id)).toEqual([]);
    expect((await close(beta, opened.body, beta.token)).status).toBe(200);
  });

  it('403 with a rotated (revoked) token; the new token works at once', async () => {
    const rotated = await platform.admin.post('/entity/country/connector/alpha/token');
    expect(rotated.status).toBe(200);
    expect(rotated.body.id).toBe(alpha.id);
    // Revocation reaches the ingest service through the bus.
    await waitFor(async () => (await open(alpha, alpha.token)).status === 403, { timeoutMs: 5000, what: 'old token revoked' });
    await refusedEverywhere(alpha, alphaSession, alpha.token, 403);
    const opened = await open(alpha, rotated.body.token);
    expect(opened.status).toBe(200);
    expect((await upsert(alpha, opened.body, rotated.body.token, [country('FR')])).status).toBe(200);
    expect((await close(alpha, opened.body, rotated.body.token)).status).toBe(200);
    expect(await vendorIds(platform.db, alpha.id)).toEqual(['GB', 'FR']);
  });
});
