/* eslint-disable @typescript-eslint/no-explicit-any -- the services' JSON answers, read loosely by the demo (it only talks HTTP) */
// npm run demo: plays the story against the services `npm run up` started (public APIs only).
import { checkUp, DemoError, endpointsFromEnv } from './story/client';
import { runStory, type StoryResult } from './story';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

function summary(r: StoryResult, e: ReturnType<typeof endpointsFromEnv>): string {
  const c = r.ab.report.totals.counts;
  const rates = r.ab.report.totals.rates;
  const w = r.warmup.report.totals.counts;
  const lines = [
    '',
    '════════ what happened ════════',
    `contacts imported        ${r.imported.created} (failed rows ${r.imported.failed})`,
    `purchases                ${r.purchases.events} events, ${r.purchases.buyers} buyers → gold ${r.purchases.expected.gold.size}, silver ${r.purchases.expected.silver.size}, red ${r.purchases.expected.red.size}`,
    `welcome campaign         sent ${w.sent}; unique opens ${w.uniqueOpens} total / ${w.uniqueHumanOpens} human; unique clicks ${w.uniqueClicks} total / ${w.uniqueHumanClicks} human`,
    `A/B "Autumn roast"       test ${r.ab.testEmails.length} + remainder ${r.ab.remainderEmails.length} = sent ${c.sent}, delivered ${c.delivered}, hard bounces ${c.bouncedHard}`,
    `  opens                  unique ${c.uniqueOpens} total / ${c.uniqueHumanOpens} human (rate ${pct(rates.open.total)} / ${pct(rates.open.human)})`,
    `  clicks                 unique ${c.uniqueClicks} total / ${c.uniqueHumanClicks} human (click-through ${pct(rates.clickThrough.total)} / ${pct(rates.clickThrough.human)})`,
    ...r.ab.report.variants.map((v: any) => `  variant ${v.variantId ?? '-'}              sent ${v.counts.sent}, human opens ${v.counts.uniqueHumanOpens}, human clicks ${v.counts.uniqueHumanClicks}, human open rate ${pct(v.rates.open.human)}`),
    `  winner                 ${r.ab.decision.winnerId} (${r.ab.decidedBy === 'auto' ? 'decided automatically' : 'picked by hand through the API'}, ${r.ab.decision.basis}): ${r.ab.decision.reason}`,
    `suppressed               ${r.ab.suppressions.map((x) => `${x.email} (${x.reason})`).join(', ')}; the complainer got no remainder email`,
    `win-back                 ${r.winback.contact.email} entered "dormant" (last order 200 days ago) → "${r.winback.emails[0]?.subject}"`,
    'segment sizes',
    ...Object.entries(r.sizes).map(([when, sz]) => `  ${when.padEnd(22)} ${Object.entries(sz).map(([k, n]) => `${k.replace(/^[a-z]+\./, '')} ${n}`).join(', ')}`),
    '',
    'where to look',
    `  report page (A/B)      ${e.tracker}/reports/${r.ab.campaignId}#key=${r.token}`,
    `  report page (welcome)  ${e.tracker}/reports/${r.warmup.campaignId}#key=${r.token}`,
    `  API docs               ${e.sender}/docs  ${e.tracker}/docs  ${e.segmenter}/docs`,
    `  sent mail              ${e.ses}/store`,
    `  workspace              ${r.workspaceId} (API key above; Authorization: Bearer <key>)`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const endpoints = endpointsFromEnv();
  await checkUp(endpoints);
  const t0 = Date.now();
  const result = await runStory({
    endpoints,
    contacts: Number(process.env.DEMO_CONTACTS ?? 5000),
    decision: process.env.DEMO_DECISION === 'manual' ? 'manual' : 'auto',
    stepTimeoutMs: Number(process.env.DEMO_STEP_TIMEOUT_MS ?? 180_000),
    log: (line) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}\n`),
  });
  process.stdout.write(summary(result, endpoints) + '\n');
}

main().catch((err: unknown) => {
  console.error(`\ndemo failed: ${err instanceof DemoError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
