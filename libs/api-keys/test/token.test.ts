import { ApiKeyRecord } from '@payam/contracts';
import { generateApiKey, hashApiKey, issueApiKey, parseApiKeyToken, revokeApiKeyRecord } from '../src';

describe('api key tokens', () => {
  it('generates pk_<keyId>_<43 base64url chars> with a fresh id and secret each time', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.token).toMatch(/^pk_[a-f0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(a.token.startsWith(`pk_${a.keyId}_`)).toBe(true);
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.token.slice(-43)).not.toBe(b.token.slice(-43));
    // 43 base64url chars decode to the 32 random bytes.
    expect(Buffer.from(a.token.slice(-43), 'base64url')).toHaveLength(32);
  });

  it('hashes to the hex SHA-256 of the token', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const { token } = generateApiKey();
    expect(hashApiKey(token)).toMatch(/^[a-f0-9]{64}$/);
    expect(hashApiKey(token)).not.toBe(hashApiKey(token + 'x'));
  });

  it('parses the key id out of a well-formed token only', () => {
    const { keyId, token } = generateApiKey();
    expect(parseApiKeyToken(token)).toBe(keyId);
    for (const bad of [
      '',
      'pk_',
      token.slice(0, -1),
      token + 'A',
      token.replace('pk_', 'sk_'),
      ` ${token}`,
      token.replace(/.$/, '!'),
      'pk_0123456789abcdef',
    ]) {
      expect(parseApiKeyToken(bad)).toBeNull();
    }
  });

  it('issues a key with a valid api-keys.v1 record carrying only its hash', () => {
    const now = new Date('2025-01-02T03:04:05.000Z');
    const { token, record } = issueApiKey({ workspaceId: 'w1', name: 'ci', now });
    expect(ApiKeyRecord.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      workspaceId: 'w1',
      name: 'ci',
      keyId: parseApiKeyToken(token),
      keyHash: hashApiKey(token),
      revokedAt: null,
    });
    expect(record.occurredAt).toBe(now.toISOString());
    expect(JSON.stringify(record)).not.toContain(token.slice(-43));

    const later = new Date('2025-02-01T00:00:00.000Z');
    const revoked = revokeApiKeyRecord(record, later);
    expect(ApiKeyRecord.parse(revoked)).toEqual(revoked);
    expect(revoked).toMatchObject({
      keyId: record.keyId,
      keyHash: record.keyHash,
      revokedAt: later.toISOString(),
      occurredAt: later.toISOString(),
    });
    expect(revoked.id).not.toBe(record.id);
  });
});
