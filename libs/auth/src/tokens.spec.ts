import { hashSecret, mintToken, parseToken, secretMatches } from './tokens';

/** BitBroker's test regex for any token (tests/lib/data.js). */
const BITBROKER_TOKEN = /^[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.?[A-Za-z0-9-_.+/=]+$/;

describe('tokens', () => {
  describe('mintToken', () => {
    it('makes odb1.<key id as 32 hex>.<256-bit secret as 43 base64url chars>', () => {
      const { keyId, token } = mintToken();
      expect(token).toMatch(/^odb1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
      expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(token.split('.')[1]).toBe(keyId.replace(/-/g, ''));
      expect(Buffer.from(token.split('.')[2], 'base64url')).toHaveLength(32);
    });

    it('makes tokens that BitBroker clients accept', () => {
      for (let i = 0; i < 50; i++) expect(mintToken().token).toMatch(BITBROKER_TOKEN);
    });

    it('never makes the same key id or secret twice', () => {
      const minted = Array.from({ length: 200 }, () => mintToken());
      expect(new Set(minted.map((m) => m.keyId)).size).toBe(200);
      expect(new Set(minted.map((m) => m.token.split('.')[2])).size).toBe(200);
    });

    it('keeps only a hash of the secret, never the secret or the token', () => {
      const { token, secretHash } = mintToken();
      const secret = token.split('.')[2];
      expect(secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(secretHash).not.toBe(secret);
      expect(secretHash).not.toContain(secret);
      expect(token).not.toContain(secretHash);
      expect(secretHash).toBe(hashSecret(secret));
    });
  });

  describe('parseToken', () => {
    it('gives back the key id (as a UUID) and the secret', () => {
      const { keyId, token } = mintToken();
      expect(parseToken(token)).toEqual({ keyId, secret: token.split('.')[2] });
    });

    it('ignores surrounding white space', () => {
      const { keyId, token } = mintToken();
      expect(parseToken(`  ${token}\n`)?.keyId).toBe(keyId);
    });

    it('rejects anything else', () => {
      const { token } = mintToken();
      const [prefix, id, secret] = token.split('.');
      const tampered = [
        '',
        'garbage',
        'a.b.c',
        `odb2.${id}.${secret}`,
        `ODB1.${id}.${secret}`,
        `${prefix}.${id.slice(1)}.${secret}`, // short key id
        `${prefix}.${id}0.${secret}`, // long key id
        `${prefix}.${id.toUpperCase()}.${secret}`,
        `${prefix}.${id.slice(0, -1)}g.${secret}`, // not hex
        `${prefix}.${id}.${secret.slice(1)}`, // short secret
        `${prefix}.${id}.${secret}A`, // long secret
        `${prefix}.${id}.${secret.slice(0, -1)}=`, // padding is not base64url
        `${prefix}.${id}.${secret.slice(0, -1)}+`,
        `${prefix}.${id}`,
        `${prefix}.${id}.${secret}.x`,
        `${prefix}..${secret}`,
        `${token} ${token}`,
        `Bearer ${token}`,
      ];
      for (const candidate of tampered) expect([candidate, parseToken(candidate)]).toEqual([candidate, null]);
    });
  });

  describe('secretMatches', () => {
    it('accepts the secret the hash was made from', () => {
      const { token, secretHash } = mintToken();
      expect(secretMatches(parseToken(token)!.secret, secretHash)).toBe(true);
    });

    it('rejects any other secret, a tampered one included', () => {
      const { token, secretHash } = mintToken();
      const secret = parseToken(token)!.secret;
      const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
      expect(secretMatches(flipped, secretHash)).toBe(false);
      expect(secretMatches(parseToken(mintToken().token)!.secret, secretHash)).toBe(false);
      expect(secretMatches('', secretHash)).toBe(false);
    });

    it('does not accept the hash itself as the secret', () => {
      const { secretHash } = mintToken();
      expect(secretMatches(secretHash, secretHash)).toBe(false);
    });

    it('is false, not an error, for a malformed stored hash', () => {
      const { token } = mintToken();
      const secret = parseToken(token)!.secret;
      for (const stored of ['', 'zz', 'abc', hashSecret(secret).slice(2)]) expect(secretMatches(secret, stored)).toBe(false);
    });
  });
});
