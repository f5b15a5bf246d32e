/* eslint-disable @typescript-eslint/no-explicit-any -- the services' JSON answers, read loosely by the demo (it only talks HTTP) */
// Templates, campaigns and waiting on them, through the sender API; the mailbox through the SES emulator.
import { addressOf, mailbox, until, type StoredEmail } from './client';
import type { Story } from './context';

export async function createLayoutAndTemplate(s: Story): Promise<{ layoutId: string; templateId: string; welcomeId: string; winbackId: string }> {
  const layout = await s.sender('POST', '/layouts', 201, {
    name: 'Brand layout',
    html:
      '<html><body style="font-family:Helvetica,Arial,sans-serif"><div style="background:#0b3d91;color:#fff;padding:12px">Payam Coffee Roasters</div>' +
      '<div style="padding:16px">{{{body}}}</div><div style="font-size:12px;color:#777">You get this because you subscribed at payam-coffee.example.</div></body></html>',
  });
  const layoutId: string = layout.layoutId ?? layout.id;
  const mk = async (name: string, subject: string, html: string) => {
    const t = await s.sender('POST', '/templates', 201, { name, subject, html, layoutId });
    return (t.templateId ?? t.id) as string;
  };
  const welcomeId = await mk('Welcome', 'Welcome, {{first_name}}', '<p>Hi {{first_name}}, thanks for joining from {{country}}.</p><p><a href="https://payam-coffee.example/start">Start here</a></p>');
  const templateId = await mk(
    'Autumn roast',
    'Autumn roast for {{first_name}}',
    '<p>Hi {{first_name}},</p><p>Our autumn roast ships to {{country}} this week.</p><p><a href="https://payam-coffee.example/autumn?utm_source=email">Order the autumn roast</a></p>',
  );
  const winbackId = await mk('We miss you', 'We miss you, {{first_name}}', '<p>Hi {{first_name}}, it has been a while. Here is 20% off your next bag.</p><p><a href="https://payam-coffee.example/comeback">Come back</a></p>');
  s.log(`layout ${layoutId} and templates welcome, autumn roast (A/B) and win-back, personalised with first_name and country`);
  return { layoutId, templateId, welcomeId, winbackId };
}

export const FROM = { name: 'Payam Coffee', address: 'news@payam-coffee.example' };

export async function campaign(s: Story, id: string): Promise<any> {
  return s.sender('GET', `/campaigns/${id}`, 200);
}

export async function waitState(s: Story, id: string, states: string[], what: string): Promise<any> {
  return until(`${what} to be ${states.join(' or ')}`, async () => {
    const c = await campaign(s, id);
    if (c.state === 'failed' || c.state === 'cancelled') throw new Error(`campaign ${id} ended ${c.state}: ${c.stateReason}`);
    return states.includes(c.state) ? c : undefined;
  }, s.o.stepTimeoutMs, 500);
}

/** Waits until exactly `n` emails of campaign `campaignId` arrived for these addresses, and returns them. */
export async function waitMail(s: Story, recipients: Set<string>, n: number, what: string, filter: (e: StoredEmail) => boolean = () => true): Promise<StoredEmail[]> {
  let last: StoredEmail[] = [];
  return until(`${n} ${what} emails in the SES emulator`, async () => {
    last = (await mailbox(s.e.ses, s.startedAt, recipients)).filter(filter);
    return last.length >= n ? last : undefined;
  }, s.o.stepTimeoutMs, 1000).catch((err: Error) => {
    throw new Error(`${err.message} (found ${last.length})`);
  });
}

export const recipientOf = (e: StoredEmail) => addressOf(e.destination.to[0]!);
