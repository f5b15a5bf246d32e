import { Topics } from '@payam/contracts';
import { applyApiKeyRecord, type ApiKeyModel } from '@payam/api-keys';
import { subscribe, type Subscription } from '@payam/kafka';

/**
 * The tracker's copy of the workspace API keys (consumer group tracker.api-keys on the compacted
 * api-keys.v1, published by the sender): the report API authenticates against it without calling
 * the sender. Applying a record is idempotent and order-safe (applyApiKeyRecord).
 */
export function apiKeySubscription(model: ApiKeyModel): Subscription {
  return subscribe({
    topic: Topics.apiKeys,
    handle: async (record) => {
      await applyApiKeyRecord(model, record);
    },
  });
}
