import { createCipheriv, createDecipheriv, randomBytes } from 'crypto';

/**
 * Encrypts secrets kept at rest (remote catalogs' API keys) with AES-256-GCM
 * under SECRETS_KEY. Stored form: `v1.<iv>.<tag>.<ciphertext>` (base64url);
 * tampering or a wrong key fails decryption instead of yielding garbage.
 */
export class SecretBox {
  private readonly key: Buffer;

  /** `key`: 32 bytes, base64-encoded. */
  constructor(key: string) {
    const decoded = Buffer.from(key, 'base64');
    if (decoded.length !== 32) throw new Error('SECRETS_KEY must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
    this.key = decoded;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  open(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
