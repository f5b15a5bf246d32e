import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import {
  apiKeyModel,
  applyApiKeyRecord,
  createApiKeyResolver,
  generateApiKey,
  issueApiKey,
  revokeApiKeyRecord,
  type ApiKeyModel,
} from '../src';

const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017';
const dbName = `payam_test_apikeys_${randomBytes(4).toString('hex')}`;

let connection: Connection;
let model: ApiKeyModel;

beforeAll(async () => {
  // retryWrites off: FerretDB v1 does not implement retryable writes.
  connection = await mongoose
    .createConnection(uri, { dbName, retryWrites: false, autoIndex: false, serverSelectionTimeoutMS: 5000 })
    .asPromise();
  model = apiKeyModel(connection);
  await model.createCollection();
  await model.createIndexes();
});

afterAll(async () => {
  await connection.dropDatabase();
  await connection.close();
});

const at = (iso: string) => new Date(iso);

describe('api_keys projection', () => {
  it('returns one model per connection', () => {
    expect(apiKeyModel(connection)).toBe(model);
  });

  it('upserts a record, ignores an older one and applies a newer one', async () => {
    const { record } = issueApiKey({ workspaceId: 'w1', name: 'first', now: at('2025-01-01T00:00:00Z') });
    expect(await applyApiKeyRecord(model, record)).toBe('applied');
    expect(await applyApiKeyRecord(model, record)).toBe('applied'); // replay: same state
    expect(await model.countDocuments({ _id: record.keyId })).toBe(1);

    const revocation = revokeApiKeyRecord(record, at('2025-01-02T00:00:00Z'));
    expect(await applyApiKeyRecord(model, revocation)).toBe('applied');
    // The original record arriving again later (a replay from the topic's start) must not un-revoke.
    expect(await applyApiKeyRecord(model, { ...record, name: 'renamed' })).toBe('stale');

    const stored = await model.findById(record.keyId).lean();
    expect(stored).toMatchObject({ workspaceId: 'w1', name: 'first', keyHash: record.keyHash });
    expect(stored!.revokedAt?.toISOString()).toBe('2025-01-02T00:00:00.000Z');
    expect(stored!.updatedAt.toISOString()).toBe('2025-01-02T00:00:00.000Z');
  });

  it('enforces a unique key hash', async () => {
    const { record } = issueApiKey({ workspaceId: 'w1', name: 'a' });
    await applyApiKeyRecord(model, record);
    const clash = { ...record, keyId: generateApiKey().keyId };
    await expect(applyApiKeyRecord(model, clash)).rejects.toMatchObject({ code: 11000 });
  });
});

describe('createApiKeyResolver', () => {
  it('resolves a live key to its workspace and refuses unknown and malformed keys', async () => {
    const { token, record } = issueApiKey({ workspaceId: 'w2', name: 'live' });
    await applyApiKeyRecord(model, record);
    const resolver = createApiKeyResolver(model);
    await expect(resolver.resolve(token)).resolves.toEqual({ workspaceId: 'w2', keyId: record.keyId });
    await expect(resolver.resolve(generateApiKey().token)).resolves.toBeNull();
    await expect(resolver.resolve('garbage')).resolves.toBeNull();
    await expect(resolver.resolve('')).resolves.toBeNull();
  });

  it('refuses a token whose hash matches but whose key id was altered', async () => {
    const { token, record } = issueApiKey({ workspaceId: 'w2', name: 'x' });
    await applyApiKeyRecord(model, record);
    const other = token.replace(record.keyId, generateApiKey().keyId);
    await expect(createApiKeyResolver(model).resolve(other)).resolves.toBeNull();
  });

  it('refuses a revoked key once the cache entry has expired, not before', async () => {
    let clock = 1_000_000;
    const resolver = createApiKeyResolver(model, { cacheTtlMs: 5_000, now: () => clock });
    const { token, record } = issueApiKey({ workspaceId: 'w3', name: 'soon revoked', now: at('2025-03-01T00:00:00Z') });
    await applyApiKeyRecord(model, record);
    await expect(resolver.resolve(token)).resolves.not.toBeNull();

    await applyApiKeyRecord(model, revokeApiKeyRecord(record, at('2025-03-02T00:00:00Z')));
    clock += 4_000;
    await expect(resolver.resolve(token)).resolves.not.toBeNull(); // still cached: the documented lag
    clock += 1_001;
    await expect(resolver.resolve(token)).resolves.toBeNull();
    await expect(createApiKeyResolver(model).resolve(token)).resolves.toBeNull();
  });

  it('shares one lookup between concurrent requests and caches misses', async () => {
    const { token, record } = issueApiKey({ workspaceId: 'w4', name: 'busy' });
    await applyApiKeyRecord(model, record);
    const spy = jest.spyOn(model, 'findOne');
    try {
      const resolver = createApiKeyResolver(model);
      const results = await Promise.all([resolver.resolve(token), resolver.resolve(token), resolver.resolve(token)]);
      expect(results.every((p) => p?.workspaceId === 'w4')).toBe(true);
      const unknown = generateApiKey().token;
      await resolver.resolve(unknown);
      await resolver.resolve(unknown);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('does not remember a failed lookup', async () => {
    const { token, record } = issueApiKey({ workspaceId: 'w5', name: 'flaky' });
    await applyApiKeyRecord(model, record);
    const resolver = createApiKeyResolver(model);
    const spy = jest.spyOn(model, 'findOne').mockImplementationOnce(() => {
      throw new Error('database down');
    });
    try {
      await expect(resolver.resolve(token)).rejects.toThrow('database down');
      await expect(resolver.resolve(token)).resolves.toEqual({ workspaceId: 'w5', keyId: record.keyId });
    } finally {
      spy.mockRestore();
    }
  });
});
