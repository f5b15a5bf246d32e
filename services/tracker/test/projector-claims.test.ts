import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Classification, EmailEvent } from '@payam/contracts';
import type { Delivered } from '@payam/kafka';
import { connectMongo } from '@payam/mongo';
import { createLogger } from '@payam/observability';
import { stack, uniqueName } from '@payam/testkit';
import { needsIdCheck, StatsProjector } from '../src/stats/projector';
import { ensureStatsIndexes, statsCollections, type StatsCollections } from '../src/stats/store';
import { emailEventFor } from './helpers';

// The projector's offset claims and id checks against the real FerretDB: records handed to
// handleBatch as the consumer hands them (partition, offset), redelivered the ways Kafka and SNS
// redeliver.
const logger = createLogger({ service: 'tracker-test', level: 'silent' });
const ws = uniqueName('ws_claims');
let conn: Connection;
let c: StatsCollections;

beforeAll(async () => {
  conn = await connectMongo({ uri: stack.mongoUri, dbName: uniqueName('payam_test_projector_claims'), logger });
  c = statsCollections(conn);
  await ensureStatsIndexes(c);
});
afterAll(async () => {
  await conn?.dropDatabase();
  await conn?.close();
});

const human: Classification = {
  client: 'Chrome',
  clientVersion: '120',
  os: 'Windows',
  device: 'desktop',
  machine: false,
  machineReasons: [],
  ip: '192.0.2.0',
  userAgent: 'x',
};

function open(campaignId: string, deliveryId: string, source: 'pixel' | 'ses' = 'pixel', id: string = randomUUID()): EmailEvent {
  return emailEventFor(ws, 'email.opened', campaignId, deliveryId, null, { id, source, classification: human });
}

/** A record as the consumer delivers it. */
function at(partition: number, offset: number, value: EmailEvent): Delivered<EmailEvent> {
  return {
    value,
    meta: { topic: 'email-events.v1', partition, offset: String(offset), key: value.contactId, headers: {}, timestamp: Date.now() },
  };
}

/** Pixel opens of deliveries d<from>…d<to - 1>, one per offset from `offset` on. */
function opens(campaignId: string, partition: number, offset: number, from: number, to: number): Array<Delivered<EmailEvent>> {
  return Array.from({ length: to - from }, (_, i) => at(partition, offset + i, open(campaignId, `d${from + i}`)));
}

async function countsOf(campaignId: string): Promise<{ opens: number; uniqueOpens: number }> {
  const doc = await c.campaigns.findOne({ _id: `${ws}:${campaignId}:_` });
  return { opens: doc?.c?.opens ?? 0, uniqueOpens: doc?.c?.uniqueOpens ?? 0 };
}

interface Case {
  name: string;
  /** The batches, in the order they are handled; each by a projector of the given cluster. */
  batches: (campaignId: string) => Array<{ records: Array<Delivered<EmailEvent>>; cluster?: string; restart?: boolean }>;
  expected: { opens: number; uniqueOpens: number };
}

const sesTwice = randomUUID();
const cases: Case[] = [
  { name: 'a batch handled once', batches: (k) => [{ records: opens(k, 0, 0, 0, 4) }], expected: { opens: 4, uniqueOpens: 4 } },
  {
    name: 'the same batch again (a retried handler) counts once',
    batches: (k) => {
      const b = opens(k, 0, 0, 0, 4);
      return [{ records: b }, { records: b }];
    },
    expected: { opens: 4, uniqueOpens: 4 },
  },
  {
    name: 'the same batch after a restart (uncommitted offsets, a new projector) counts once',
    batches: (k) => {
      const b = opens(k, 0, 0, 0, 4);
      return [{ records: b }, { records: b, restart: true }];
    },
    expected: { opens: 4, uniqueOpens: 4 },
  },
  {
    name: 'a redelivery overlapping the claimed offsets counts only the records beyond them',
    batches: (k) => {
      const first = opens(k, 0, 0, 0, 4);
      return [{ records: first }, { records: [...first.slice(2), ...opens(k, 0, 4, 4, 7)], restart: true }];
    },
    expected: { opens: 7, uniqueOpens: 7 },
  },
  {
    name: 'partitions are claimed apart',
    batches: (k) => [{ records: opens(k, 0, 0, 0, 3) }, { records: opens(k, 1, 0, 3, 6) }, { records: opens(k, 1, 0, 3, 6) }],
    expected: { opens: 6, uniqueOpens: 6 },
  },
  {
    name: 'repeat pixel opens of one delivery (new ids) count in the totals, once in the uniques',
    batches: (k) => [{ records: [at(0, 0, open(k, 'd1')), at(0, 1, open(k, 'd1'))] }, { records: [at(0, 2, open(k, 'd1'))] }],
    expected: { opens: 3, uniqueOpens: 1 },
  },
  {
    name: 'an SES open that SNS delivered twice (one id, two offsets) counts once',
    batches: (k) => [{ records: [at(0, 0, open(k, 'd1', 'ses', sesTwice))] }, { records: [at(0, 1, open(k, 'd1', 'ses', sesTwice))] }],
    expected: { opens: 1, uniqueOpens: 1 },
  },
  {
    name: "a wiped broker (a new cluster id, offsets from 0 again): its records are not taken for the old cluster's",
    batches: (k) => [
      { records: opens(k, 0, 0, 0, 2), cluster: 'A' },
      { records: opens(k, 0, 0, 2, 4), cluster: 'B', restart: true },
    ],
    expected: { opens: 4, uniqueOpens: 4 },
  },
];

test.each(cases)('$name', async ({ batches, expected }) => {
  // Each case has its own campaign and its own cluster ids, so cursors never cross cases.
  const campaignId = uniqueName('cmp');
  const clusterId = (name = 'A') => `${campaignId}-cluster${name}`;
  let projector: StatsProjector | null = null;
  for (const b of batches(campaignId)) {
    if (!projector || b.restart) projector = new StatsProjector(c, logger, { clusterId: clusterId(b.cluster) });
    await projector.handleBatch(b.records);
  }
  expect(await countsOf(campaignId)).toEqual(expected);
});

test('only events whose source may write a second copy at another offset have their id checked', () => {
  const e = open('k', 'd1');
  const table: Array<[EmailEvent, boolean]> = [
    [e, false],
    [{ ...e, source: 'ses' } as EmailEvent, true],
    [{ ...e, type: 'email.clicked', source: 'redirect', url: 'https://example.com/', linkIndex: 0 } as EmailEvent, false],
    [{ ...e, type: 'email.clicked', source: 'ses', url: 'https://example.com/', linkIndex: null } as EmailEvent, true],
    [{ ...e, type: 'email.delivery_delayed', delayType: 'MailboxFull' } as unknown as EmailEvent, true],
    [{ ...e, type: 'email.delivered' } as unknown as EmailEvent, false],
  ];
  expect(table.map(([event]) => needsIdCheck(event))).toEqual(table.map(([, checked]) => checked));
});
