import type { Connection } from 'mongoose';
import type { SendJob } from '@payam/contracts';
import type { EventPublisher } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { stack, uniqueName } from '@payam/testkit';
import { ContactService } from '../src/contacts/service';
import { exclusionReason, jobContact } from '../src/audience/resolve';
import { RecipientReader } from '../src/delivery/recipients';
import { suppress } from '../src/suppression/service';

// Send jobs carry the recipient as resolved; what changed since must still win at send time,
// read from the contact change log (the worker no longer reads the contacts themselves).
const logger = createLogger({ service: 'test', level: 'silent' });
const publisher = { publish: async () => undefined } as unknown as EventPublisher;
let conn: Connection;
let contacts: ContactService;

beforeAll(async () => {
  conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_sendtime'), logger });
  contacts = new ContactService(conn, publisher, logger);
});

afterAll(async () => {
  await conn.dropDatabase().catch(() => undefined);
  await conn.close();
});

function job(ws: string, contactId: string, n: number, contact?: SendJob['contact']): SendJob {
  return {
    id: crypto.randomUUID(),
    type: 'send.job',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    workspaceId: ws,
    contactId,
    campaignId: 'cmp_t',
    deliveryId: `dlv_${n}`,
    phase: 'all',
    variantId: null,
    ...(contact ? { contact } : {}),
  };
}

test('erasure, unsubscribe, a new address and a suppression since resolution win over what the job carries', async () => {
  const ws = uniqueName('ws');
  const made = await Promise.all(
    ['erase', 'unsub', 'moved', 'kept', 'supp', 'legacy'].map((n) => contacts.create(ws, { email: `${n}@x.example.com`, status: 'subscribed', attributes: { first_name: n }, listIds: [] })),
  );
  const [erased, unsub, moved, kept, supp, legacy] = made as [typeof made[0], typeof made[0], typeof made[0], typeof made[0], typeof made[0], typeof made[0]];
  const jobs = made.map((c, i) => job(ws, c._id, i, c === legacy ? undefined : jobContact(c)));

  await contacts.erase(ws, erased._id);
  await contacts.setStatus(ws, unsub._id, () => 'unsubscribed');
  await contacts.update(ws, moved._id, { email: 'moved-new@x.example.com' });
  await contacts.update(ws, kept._id, { attributes: { tier: 'gold' } }); // not a sendability change: nothing logged
  await suppress(conn, { workspaceId: ws, email: supp.email, reason: 'manual' });

  const { byDelivery } = await new RecipientReader(conn).read(jobs);
  const at = (i: number) => byDelivery.get(`dlv_${i}`)!;
  const why = (i: number) => exclusionReason(at(i).contact!, at(i).suppressed);

  expect(why(0)).toBe('erased');
  expect(at(0).contact!.email).not.toBe(erased.email);
  expect(why(1)).toBe('unsubscribed');
  expect(why(2)).toBeNull();
  expect(at(2).contact!.email).toBe('moved-new@x.example.com');
  expect(why(3)).toBeNull();
  expect(at(3).contact!.attributes).toEqual({ first_name: 'kept' });
  expect(why(4)).toBe('suppressed');
  // A job without the recipient (published before jobs carried it) reads the contact.
  expect(why(5)).toBeNull();
  expect(at(5).contact!.email).toBe(legacy.email);
});
