import fc from 'fast-check';
import { evaluateProfile, freshMemberships, workspaceView } from '../src/evaluation/engine';
import { emptyProfile, type Profile } from '../src/profiles/profile';
import { applyEvent, applySnapshot, type ProfileEvent } from '../src/profiles/reducer';
import { ANY, eventDepKeys, SNAPSHOT } from '../src/rules/deps';
import { DEFAULT_SETTINGS } from '../src/rules/figures';
import { parseRule } from '../src/rules/validate';
import { custom, DAY, emailEvent, purchase, signup, snapshot, T0 } from './fixtures';

const WS = 'ws_prop';
const RAW: Record<string, unknown> = {
  engaged: {
    any: [
      { event: 'email.opened', within: '3d', humanOnly: true, count: { gte: 1 } },
      { event: 'email.clicked', within: '2d', count: { gte: 1 } },
    ],
  },
  dormant: { all: [{ field: 'firstSeenAt', op: 'older_than', value: '5d' }, { not: { last: 'email.opened', within: '4d' } }] },
  spender: { sum: 'purchase.amount', within: '7d', value: { gte: 100 } },
  customer: { profile: 'lifecycle', op: 'eq', value: 'customer' },
  gold: { profile: 'tier', op: 'eq', value: 'silver' },
  vip: { all: [{ attr: 'vip', op: 'eq', value: true }, { segment: 'engaged' }] },
  demo: { event: 'contact.custom', name: 'demo', within: '2d', where: [{ prop: 'seats', op: 'gte', value: 5 }], count: { gte: 1 } },
  trial: { attr: 'trialAt', op: 'within_last', value: '36h' },
  holdout: { all: [{ bucket: { lt: 30 } }, { not: { segment: 'dormant' } }] },
  rfm: { profile: 'rfm.r', op: 'gte', value: 4 },
};
const settings = {
  ...DEFAULT_SETTINGS,
  lifecycle: { ...DEFAULT_SETTINGS.lifecycle, customerActiveDays: 3 },
  rfm: { ...DEFAULT_SETTINGS.rfm, recencyDays: [1, 2, 4, 6] },
};
const view = workspaceView(
  Object.entries(RAW).map(([id, rule]) => ({ id, version: 1, rule: parseRule(rule) })),
  settings,
  {},
);

type Op =
  | { k: 'snap'; c: number; v: number; vip: boolean; trialH: number }
  | { k: 'ev'; c: number; e: number; dt: number; amount: number; machine: boolean }
  | { k: 'tick'; ms: number }
  | { k: 'dup'; i: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('snap' as const), c: fc.nat(3), v: fc.nat(5), vip: fc.boolean(), trialH: fc.integer({ min: -72, max: 24 }) }),
  fc.record({
    k: fc.constant('ev' as const),
    c: fc.nat(3),
    e: fc.nat(5),
    dt: fc.integer({ min: -6 * DAY, max: DAY }),
    amount: fc.integer({ min: 1, max: 300 }),
    machine: fc.boolean(),
  }),
  fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3 * DAY }) }),
  fc.record({ k: fc.constant('dup' as const), i: fc.nat(50) }),
);

function makeEvent(op: Extract<Op, { k: 'ev' }>, now: number): ProfileEvent {
  const cid = `c${op.c}`;
  const at = now + op.dt;
  switch (op.e) {
    case 0:
      return emailEvent(WS, cid, 'email.opened', at, { machine: op.machine });
    case 1:
      return emailEvent(WS, cid, 'email.clicked', at, { machine: op.machine });
    case 2:
      return purchase(WS, cid, at, op.amount);
    case 3:
      return custom(WS, cid, at, 'demo', { seats: op.amount % 10 });
    case 4:
      return signup(WS, cid, at);
    default:
      return emailEvent(WS, cid, 'email.delivered', at);
  }
}

/**
 * The incremental path (re-evaluate only what an input touches, then sweep what is due) must
 * give exactly the memberships a from-scratch evaluation gives, at every moment, for any
 * stream of snapshots, events (late, early, duplicated) and clock jumps.
 */
test('incremental + sweep == full recompute over random event streams and clocks', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      let now = T0;
      const profiles = new Map<string, Profile>();
      const seen: ProfileEvent[] = [];
      const get = (c: number) => {
        const id = `c${c}`;
        let p = profiles.get(id);
        if (!p) profiles.set(id, (p = emptyProfile(WS, id)));
        return p;
      };
      const sweep = () => {
        for (const p of profiles.values()) evaluateProfile(p, view, { kind: 'due' }, now);
      };
      const fold = (e: ProfileEvent) => {
        const p = get(Number(e.contactId.slice(1)));
        const wasKnown = p.known;
        if (!applyEvent(p, e, now)) return;
        const keys = eventDepKeys(e.type, e.type === 'contact.custom' ? e.name : undefined);
        evaluateProfile(p, view, !wasKnown && p.known ? { kind: 'all' } : { kind: 'touching', keys }, now);
      };
      for (const op of ops) {
        if (op.k === 'tick') {
          now += op.ms;
          sweep();
        } else if (op.k === 'snap') {
          const p = get(op.c);
          const wasKnown = p.known;
          const trialAt = new Date(now + op.trialH * 3_600_000).toISOString();
          if (applySnapshot(p, snapshot(WS, `c${op.c}`, now - 2 * DAY, { version: op.v, attributes: { vip: op.vip, trialAt } }))) {
            evaluateProfile(p, view, !wasKnown ? { kind: 'all' } : { kind: 'touching', keys: [SNAPSHOT, ANY] }, now);
          }
        } else if (op.k === 'ev') {
          const e = makeEvent(op, now);
          seen.push(e);
          fold(e);
        } else if (seen.length > 0) {
          fold(seen[op.i % seen.length]!); // a replayed copy changes nothing
        }
        for (const p of profiles.values()) {
          const incremental = Object.entries(p.seg)
            .filter(([, s]) => s.m)
            .map(([id]) => id)
            .sort();
          expect(incremental).toEqual(freshMemberships(p, view, now));
        }
      }
    }),
    { numRuns: 300 },
  );
});
