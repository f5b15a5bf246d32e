// Helpers shared by part B's test files (campaigns*, delivery*): contacts in bulk, a list, a
// template, and waiting for a campaign's state.
import { uniqueName, waitFor } from '@payam/testkit';
import { contactModel, type ContactDoc } from '../src/contacts/model';
import type { SenderHarness, TestWorkspace } from './sender-harness';

export interface Seeded {
  listId: string;
  contacts: Array<{ contactId: string; email: string; firstName: string }>;
}

/** Contacts inserted directly (fast) with the model part A defines, all in one new list. */
export async function seedAudience(h: SenderHarness, w: TestWorkspace, n: number, tag = 'r'): Promise<Seeded> {
  const list = await h.as(w.token).post('/lists').send({ name: uniqueName('list') });
  if (list.status !== 201) throw new Error(`list create answered ${list.status}: ${JSON.stringify(list.body)}`);
  const listId: string = list.body.listId ?? list.body.id;
  const prefix = uniqueName(tag).toLowerCase();
  const now = new Date();
  const docs: ContactDoc[] = Array.from({ length: n }, (_, i) => ({
    _id: `ct_${prefix}_${String(i).padStart(6, '0')}`,
    workspaceId: w.workspaceId,
    email: `${prefix}.${i}@example.com`,
    status: 'subscribed',
    attributes: { first_name: `Name${i}` },
    listIds: [listId],
    version: 1,
    createdAt: now,
    updatedAt: now,
    erasedAt: null,
  }));
  for (let i = 0; i < docs.length; i += 1000) await contactModel(h.sender.ctx.conn).collection.insertMany(docs.slice(i, i + 1000) as never[]);
  return { listId, contacts: docs.map((d, i) => ({ contactId: d._id, email: d.email, firstName: `Name${i}` })) };
}

export async function createTemplate(h: SenderHarness, w: TestWorkspace): Promise<string> {
  const res = await h
    .as(w.token)
    .post('/templates')
    .send({
      name: uniqueName('tpl'),
      subject: 'Hello {{first_name}}',
      html: '<html><body><p>Hi {{first_name}},</p><p><a href="https://shop.example.com/sale?a=1&amp;b=2">Sale</a> <a href="mailto:help@example.com">Mail us</a> <a href="#top">Top</a></p></body></html>',
    });
  if (res.status !== 201) throw new Error(`template create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.templateId ?? res.body.id;
}

export function campaignBody(templateId: string, listId: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'Spring sale',
    templateId,
    audience: { lists: [listId] },
    from: { name: 'Shop', address: 'news@shop.example.com' },
    replyTo: ['help@shop.example.com'],
    configurationSet: 'marketing',
    tags: { kind: 'promo' },
    ...extra,
  };
}

export async function waitForState(h: SenderHarness, w: TestWorkspace, campaignId: string, state: string, timeoutMs = 60_000) {
  let last: unknown;
  return waitFor(
    async () => {
      const res = await h.as(w.token).get(`/campaigns/${campaignId}`);
      return res.body.state === state ? res.body : (last = res.body, false);
    },
    { timeoutMs, intervalMs: 250, what: `campaign ${campaignId} ${state}` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; campaign: ${JSON.stringify(last)}`);
  });
}
