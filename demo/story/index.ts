/* eslint-disable @typescript-eslint/no-explicit-any -- the services' JSON answers, read loosely by the demo (it only talks HTTP) */
// The whole story, step by step, through the public APIs. demo/run.ts prints it; tests/journey.test.ts asserts it.
import { call, DemoError, messageFacts, until, type StoredEmail } from './client';
import { Story, type StoryOptions } from './context';
import { createWorkspace, importContacts, members, postPurchases, settle, switchOnSegments, type Person, type PurchaseFigures } from './audience';
import { campaign, createLayoutAndTemplate, FROM, recipientOf, waitMail, waitState } from './campaigns';
import { playRecipients, type Engagement } from './recipients';
import { complaintEvent, deliveryEvent, hardBounceEvent, sesMail, signedNotification } from './sns-signer';

export { Story, type StoryOptions };

export interface StoryResult {
  workspaceId: string;
  token: string;
  people: Person[];
  imported: Record<string, number>;
  segments: Record<string, string>;
  sizes: Record<string, Record<string, number>>;
  purchases: PurchaseFigures;
  warmup: { campaignId: string; recipients: string[]; emails: StoredEmail[]; engagement: Engagement; report: any };
  ab: {
    campaignId: string;
    testEmails: StoredEmail[];
    remainderEmails: StoredEmail[];
    engagement: Engagement;
    bounced: { email: string; contactId: string };
    complained: { email: string; contactId: string };
    suppressions: Array<{ email: string; reason: string }>;
    decision: any;
    decidedBy: 'auto' | 'manual';
    experiment: any;
    report: any;
    campaign: any;
  };
  winback: { campaignId: string; contact: Person; emails: StoredEmail[] };
}

const ENGAGED = 'engagement.engaged';
const DORMANT = 'engagement.dormant';
const TEMPLATES = [ENGAGED, DORMANT, 'loyalty.silver', 'loyalty.gold', 'deliverability.complainers', 'deliverability.hard_bounces'];

async function sizes(s: Story, segs: Record<string, string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, id] of Object.entries(segs)) out[k] = (await members(s, id)).size;
  return out;
}

async function postSns(s: Story, message: object): Promise<void> {
  const r = await call(s.e.tracker, 'POST', '/ses/sns', { body: JSON.stringify(signedNotification(message)), contentType: 'text/plain; charset=UTF-8', headers: { 'x-amz-sns-message-type': 'Notification' } });
  if (r.status === 403) throw new DemoError('the tracker refused the demo-signed SNS message: start it with SNS_DEMO_MODE=true (npm run up does, outside production)');
  if (r.status !== 200) throw new DemoError(`POST /ses/sns answered ${r.status}: ${JSON.stringify(r.body)}`);
}

const mailOf = (e: StoredEmail) => sesMail(messageFacts(e), recipientOf(e), e.messageId, new Date(e.at * 1000));

export async function runStory(o: StoryOptions): Promise<StoryResult> {
  const s = new Story(o);
  s.log(`— 1. workspace and key`);
  await createWorkspace(s);

  s.log(`— 2. ${o.contacts.toLocaleString('en')} contacts from CSV`);
  const segments = await switchOnSegments(s, TEMPLATES);
  const { people, listId, importFigures } = await importContacts(s);
  const byId = new Map(people.map((p) => [p.contactId, p]));
  const sizeLog: Record<string, Record<string, number>> = {};

  s.log(`— 3. purchases → loyalty tiers`);
  const purchases = await postPurchases(s, people);
  await settle(s, 'loyalty.gold', segments['loyalty.gold']!, purchases.expected.gold);
  await settle(s, 'loyalty.silver', segments['loyalty.silver']!, purchases.expected.silver);
  sizeLog.afterPurchases = await sizes(s, segments);
  s.log(`gold ${purchases.expected.gold.size}, silver ${purchases.expected.silver.size}, red ${purchases.expected.red.size} (segments: ${JSON.stringify(sizeLog.afterPurchases)})`);

  s.log(`— 4. welcome campaign to early adopters: who opens becomes "engaged"`);
  const tpl = await createLayoutAndTemplate(s);
  const warmCount = Math.min(300, Math.max(100, Math.round(o.contacts / 10)));
  // The early adopters skip the last contact, who is the story's dormant customer.
  const early = people.slice(0, warmCount);
  const earlyList = await s.sender('POST', '/lists', 201, { name: 'Early adopters' });
  for (let i = 0; i < early.length; i += 1000) await s.sender('POST', `/lists/${earlyList.listId}/members`, [200, 201], { contactIds: early.slice(i, i + 1000).map((p) => p.contactId) });
  const warm = await s.sender('POST', '/campaigns', 201, { name: 'Welcome', templateId: tpl.welcomeId, audience: { lists: [earlyList.listId] }, from: FROM });
  await s.sender('POST', `/campaigns/${warm.campaignId}/start`, 200);
  await waitState(s, warm.campaignId, ['completed'], 'welcome campaign');
  const earlyEmails = new Set(early.map((p) => p.email));
  const warmEmails = await waitMail(s, earlyEmails, early.length, 'welcome', (e) => messageFacts(e).campaignId === warm.campaignId);
  s.log(`welcome sent: ${warmEmails.length} emails in the SES emulator`);
  const warmEng = await playRecipients(s, warmEmails, () => ({ humanOpen: 0.55, humanClickGivenOpen: 0.35, proxyOpen: 0.2, scannerClick: 0.08 }), 1);
  s.log(`recipients: ${warmEng.humanOpeners.size} opened in a mail client, ${warmEng.humanClickers.size} clicked, ${warmEng.proxyOpeners.size} Gmail image-proxy fetches, ${warmEng.scannerClicked.size} scanner HEAD clicks`);
  const engagedExpected = new Set([...warmEng.humanOpeners, ...warmEng.humanClickers]);
  await settle(s, ENGAGED, segments[ENGAGED]!, engagedExpected);
  sizeLog.afterWelcome = await sizes(s, segments);
  s.log(`engaged segment: ${engagedExpected.size} members (machine opens and scanner clicks do not count)`);

  s.log(`— 5. A/B test to the engaged segment`);
  const ab = await s.sender('POST', '/campaigns', 201, {
    name: 'Autumn roast',
    templateId: tpl.templateId,
    audience: { segments: [segments[ENGAGED]!] },
    from: FROM,
    experiment: {
      variants: [
        { id: 'A', subject: 'Autumn roast for {{first_name}}' },
        { id: 'B', subject: '{{first_name}}, your autumn roast is waiting ☕' },
      ],
      testShare: 0.5,
      metric: 'unique_human_open_rate',
      // The shortest decideAfter the API takes (1m) for the automatic decision; with the manual
      // one the automatic decision must not come first while the story still plays the test cohort.
      decideAfter: o.decision === 'auto' ? '1m' : '1h',
      minSamplePerVariant: 10,
      confidence: 0.9,
      notSignificantPolicy: 'best_observed',
    },
  });
  await s.sender('POST', `/campaigns/${ab.campaignId}/start`, 200);
  const engagedPeople = new Set([...engagedExpected].map((id) => byId.get(id)!.email));
  const isAb = (e: StoredEmail) => messageFacts(e).campaignId === ab.campaignId;
  // The campaign's audienceCounts count the whole audience; the experiment report has the test cohort.
  const cohort = await until('the test cohort to be sent', async () => {
    const x = await s.sender('GET', `/campaigns/${ab.campaignId}/experiment`, 200);
    return x.testFinishedAt ? x : undefined;
  }, o.stepTimeoutMs);
  const cohortSize: number = cohort.variants.reduce((n: number, v: any) => n + v.recipients, 0);
  const testEmails = await waitMail(s, engagedPeople, cohortSize, 'A/B test', isAb);
  const perVariant = (v: string) => testEmails.filter((e) => messageFacts(e).variantId === v).length;
  s.log(`test cohort sent: ${testEmails.length} (A ${perVariant('A')}, B ${perVariant('B')}); subjects "${testEmails.find((e) => messageFacts(e).variantId === 'A')?.subject}" / "${testEmails.find((e) => messageFacts(e).variantId === 'B')?.subject}"`);

  // SES reports deliveries, a hard bounce (variant A) and, from someone still waiting for the
  // remainder, a complaint about the welcome email.
  const bouncedMail = testEmails.find((e) => messageFacts(e).variantId === 'A')!;
  for (const e of testEmails) if (e !== bouncedMail) await postSns(s, deliveryEvent(mailOf(e)));
  await postSns(s, hardBounceEvent(mailOf(bouncedMail)));
  const testRecipients = new Set(testEmails.map(recipientOf));
  const complainerWelcome = warmEmails.find((e) => engagedPeople.has(recipientOf(e)) && !testRecipients.has(recipientOf(e)))!;
  await postSns(s, complaintEvent(mailOf(complainerWelcome)));
  const bounced = { email: recipientOf(bouncedMail), contactId: messageFacts(bouncedMail).contactId };
  const complained = { email: recipientOf(complainerWelcome), contactId: messageFacts(complainerWelcome).contactId };
  s.log(`SNS (demo-signed): ${testEmails.length - 1} deliveries, hard bounce for ${bounced.email}, complaint from ${complained.email}`);

  const testRecipientsOnly = testEmails.filter((e) => e !== bouncedMail);
  const abEng = await playRecipients(s, testRecipientsOnly, (e) => (messageFacts(e).variantId === 'B' ? { humanOpen: 0.75, humanClickGivenOpen: 0.4, proxyOpen: 0.15, scannerClick: 0.05 } : { humanOpen: 0.25, humanClickGivenOpen: 0.3, proxyOpen: 0.15, scannerClick: 0.05 }), 2);
  s.log(`test recipients: ${abEng.humanOpeners.size} human opens, ${abEng.humanClickers.size} human clicks, ${abEng.proxyOpeners.size} proxy opens, ${abEng.scannerClicked.size} scanner clicks`);

  const suppressions = await until('the bounce and the complaint to suppress both addresses in the sender', async () => {
    const out: Array<{ email: string; reason: string }> = [];
    for (const x of [bounced, complained]) {
      const r = await call(s.e.sender, 'GET', `/suppressions/${encodeURIComponent(x.email)}`, { token: s.token });
      if (r.status !== 200) return undefined;
      out.push({ email: x.email, reason: r.body.reason });
    }
    return out;
  }, o.stepTimeoutMs);
  await settle(s, 'deliverability.complainers', segments['deliverability.complainers']!, new Set([complained.contactId]));
  sizeLog.afterComplaint = await sizes(s, segments);
  s.log(`suppressed: ${suppressions.map((x) => `${x.email} (${x.reason})`).join(', ')}`);

  s.log(`— 6. the decision`);
  let decidedBy: 'auto' | 'manual' = 'auto';
  let decision: any;
  const decided = async () => {
    const r = await s.sender('GET', `/campaigns/${ab.campaignId}/experiment`, 200);
    return r.decision ? r : undefined;
  };
  if (o.decision === 'auto') {
    s.log('waiting for the experiment to decide by itself (decideAfter 1m after the test cohort was sent)…');
    decision = (await until('the automatic decision', decided, Math.max(o.stepTimeoutMs, 150_000), 2000)).decision;
  } else {
    decidedBy = 'manual';
    // The experiment counts opens from email-events.v1: wait until it has seen the test recipients' human opens.
    const humanOpens = abEng.humanOpeners.size;
    const live = await until(`the experiment to count the test cohort's ${humanOpens} human opens`, async () => {
      const x = await s.sender('GET', `/campaigns/${ab.campaignId}/experiment`, 200);
      return x.variants.reduce((n: number, v: any) => n + v.opens.human, 0) >= humanOpens ? x : undefined;
    }, o.stepTimeoutMs, 1000);
    s.log('picking the observed leader by hand (POST /campaigns/:id/experiment/winner) instead of waiting for the automatic decision');
    // The leader by the chosen metric as the live report computes it.
    const leader: string = [...live.variants].sort((a: any, b: any) => b.metric.successes / Math.max(1, b.metric.trials) - a.metric.successes / Math.max(1, a.metric.trials))[0].variantId;
    decision = await s.sender('POST', `/campaigns/${ab.campaignId}/experiment/winner`, 200, { variantId: leader });
  }
  s.log(`winner ${decision.winnerId} (${decision.basis}): ${decision.reason}`);
  const done = await waitState(s, ab.campaignId, ['completed'], 'A/B campaign');
  const remainderCount: number = (await s.sender('GET', `/campaigns/${ab.campaignId}/experiment`, 200)).remainder.recipients;
  const remainderEmails = await waitMail(s, engagedPeople, testEmails.length + remainderCount, 'A/B (test + remainder)', isAb).then((all) => all.filter((e) => !testEmails.some((t) => t.messageId === e.messageId)));
  s.log(`remainder sent with variant ${decision.winnerId}: ${remainderEmails.length} emails (left out: ${done.audienceCounts?.complained ?? 0} complained, the complainer among them, ${done.audienceCounts?.bounced ?? 0} bounced)`);
  for (const e of remainderEmails) await postSns(s, deliveryEvent(mailOf(e)));
  await playRecipients(s, remainderEmails, () => ({ humanOpen: 0.7, humanClickGivenOpen: 0.4, proxyOpen: 0.15, scannerClick: 0.05 }), 3, abEng);

  s.log(`— 7. a dormant customer and the triggered win-back`);
  const wb = await s.sender('POST', '/campaigns', 201, { name: 'Win-back', templateId: tpl.winbackId, trigger: { type: 'segment_entered', segmentId: segments[DORMANT]! }, from: FROM });
  await s.sender('POST', `/campaigns/${wb.campaignId}/start`, 200);
  await waitState(s, wb.campaignId, ['running'], 'win-back campaign');
  // The last contact who bought nothing in the story (a recent order would keep them active) and
  // got no welcome email (the early adopters are the first contacts).
  const buyers = new Set([...purchases.expected.gold, ...purchases.expected.silver, ...purchases.expected.red]);
  const sleeper = [...people].reverse().find((p) => !buyers.has(p.contactId))!;
  // The order system reports an old order: bought 200 days ago, nothing since.
  await s.segmenter('POST', '/events', 202, { type: 'contact.purchase', contactId: sleeper.contactId, amount: 38, currency: 'EUR', occurredAt: new Date(Date.now() - 200 * 86_400_000).toISOString(), idempotencyKey: `${s.runTag}:old-order` });
  await until(`${sleeper.email} to enter the dormant segment`, async () => (await members(s, segments[DORMANT]!)).has(sleeper.contactId), o.stepTimeoutMs, 1000);
  const wbEmails = await waitMail(s, new Set([sleeper.email]), 1, 'win-back', (e) => messageFacts(e).campaignId === wb.campaignId);
  s.log(`${sleeper.firstName} ${sleeper.lastName} (${sleeper.email}) last bought 200 days ago → dormant → "${wbEmails[0]!.subject}"`);
  sizeLog.end = await sizes(s, segments);

  const reportOf = async (id: string, expectSent: number) =>
    until(`report of ${id}`, async () => {
      const r = await s.tracker('GET', `/campaigns/${id}/report`, [200, 404]);
      return r?.totals?.counts?.sent >= expectSent ? r : undefined;
    }, o.stepTimeoutMs, 1000);
  const [warmReport, abReport, experiment, abCampaign] = await Promise.all([
    reportOf(warm.campaignId, warmEmails.length),
    reportOf(ab.campaignId, testEmails.length + remainderEmails.length),
    s.sender('GET', `/campaigns/${ab.campaignId}/experiment`, 200),
    campaign(s, ab.campaignId),
  ]);
  void listId;
  return {
    workspaceId: s.workspaceId,
    token: s.token,
    people,
    imported: importFigures,
    segments,
    sizes: sizeLog,
    purchases,
    warmup: { campaignId: warm.campaignId, recipients: early.map((p) => p.email), emails: warmEmails, engagement: warmEng, report: warmReport },
    ab: { campaignId: ab.campaignId, testEmails, remainderEmails, engagement: abEng, bounced, complained, suppressions, decision, decidedBy, experiment, report: abReport, campaign: abCampaign },
    winback: { campaignId: wb.campaignId, contact: sleeper, emails: wbEmails },
  };
}
