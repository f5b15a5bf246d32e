import { z } from 'zod';
import { Topics } from '@payam/contracts';
import { buildOpenApiDocument, route } from '../src';
import { docsPage } from '../src/docs-page';

/*
 * Runs the page's script against a minimal DOM fake (enough for createElement, text nodes and
 * attributes; deliberately without innerHTML), so a script error or a wrong field name shows up
 * here and not only in a browser.
 */
class FakeNode {
  children: FakeNode[] = [];
  attributes = new Map<string, string>();
  className = '';
  id = '';
  private listeners = new Map<string, (e: unknown) => void>();
  constructor(
    readonly tag: string,
    readonly data?: string,
  ) {}
  appendChild(child: FakeNode) {
    this.children.push(child);
    return child;
  }
  setAttribute(name: string, value: unknown) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string) {
    return this.attributes.get(name) ?? null;
  }
  get textContent(): string {
    return this.data ?? this.children.map((c) => c.textContent).join('');
  }
  set textContent(value: string) {
    this.children = value ? [new FakeNode('#text', value)] : [];
  }
  get classList() {
    return {
      toggle: (name: string, on: boolean) => {
        const set = new Set(this.className.split(' ').filter(Boolean));
        if (on) set.add(name);
        else set.delete(name);
        this.className = [...set].join(' ');
      },
    };
  }
  addEventListener(type: string, fn: (e: unknown) => void) {
    this.listeners.set(type, fn);
  }
  dispatch(type: string, event: unknown) {
    this.listeners.get(type)?.(event);
  }
  *walk(): Generator<FakeNode> {
    yield this;
    for (const c of this.children) yield* c.walk();
  }
}

async function renderPage(document: unknown, events: unknown) {
  const ids = ['top', 'nav', 'filter', 'ops', 'events-list'];
  const root = new FakeNode('body');
  const byId = Object.fromEntries(ids.map((id) => [id, root.appendChild(new FakeNode('div'))]));
  const fakeDocument = {
    title: '',
    createElement: (tag: string) => new FakeNode(tag),
    createTextNode: (text: string) => new FakeNode('#text', text),
    getElementById: (id: string) => byId[id] ?? null,
    querySelectorAll: (selector: string) => {
      expect(selector).toBe('details.op');
      return [...root.walk()].filter((n) => n.tag === 'details' && n.className.split(' ').includes('op'));
    },
  };
  const fetched: string[] = [];
  const fakeFetch = async (url: string) => {
    fetched.push(url);
    const body = url === 'openapi.json' ? document : events;
    return { ok: true, status: 200, json: async () => body };
  };
  const script = /<script>([\s\S]*)<\/script>/.exec(docsPage().html)![1]!;
  new Function('document', 'fetch', script)(fakeDocument, fakeFetch);
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { root, byId, fakeDocument, fetched };
}

interface TreeNode {
  name: string;
  children: TreeNode[];
}
const TreeNode: z.ZodType<TreeNode> = z.lazy(() => z.object({ name: z.string(), children: z.array(TreeNode) }));

const routes = [
  route({
    method: 'post',
    path: '/campaigns/:campaignId/test-send',
    permission: 'workspace',
    summary: 'Send a test <img src=x onerror=alert(1)>',
    params: z.object({ campaignId: z.string() }),
    query: z.object({ limit: z.coerce.number().max(50).default(10) }),
    body: z.object({ recipients: z.array(z.email()).max(5), variant: z.enum(['a', 'b']).optional() }),
    handler: () => undefined,
  }),
  route({ method: 'get', path: '/admin/stats', permission: 'admin', handler: () => ({}) }),
  route({ method: 'post', path: '/sns', permission: 'public', body: z.string(), handler: () => undefined }),
  route({ method: 'post', path: '/tree', permission: 'admin', body: TreeNode, handler: () => undefined }),
];
const doc = JSON.parse(JSON.stringify(buildOpenApiDocument({ title: 'Sender API', version: '9.9.9', routes })));
const events = { schemas: { [Topics.emailEvents.name]: '/events/schemas/email-events.v1.schema.json', evil: 'javascript:alert(1)' } };

describe('/docs page script', () => {
  it('fetches the document relative to the page and renders every operation grouped by tag', async () => {
    const { byId, fakeDocument, fetched } = await renderPage(doc, events);
    expect(fetched).toEqual(['openapi.json', 'events/schemas']);
    expect(fakeDocument.title).toBe('Sender API 9.9.9');
    const nav = byId.nav!.textContent;
    expect(nav).toContain('campaigns (1)');
    expect(nav).toContain('admin (1)');
    const ops = byId.ops!.textContent;
    for (const text of [
      '/campaigns/{campaignId}/test-send',
      '/admin/stats',
      '/sns',
      'workspace',
      'Parameters',
      'campaignId',
      'limit',
      'maximum: 50',
      'default: 10',
      'Request body (required)',
      'application/json',
      'recipients',
      'format: email',
      'one of: "a", "b"',
      'text/plain',
      'ValidationError',
      'FieldProblem',
      'Responses',
      '401',
      'Operator secret',
    ]) {
      expect(ops).toContain(text);
    }
  });

  it('puts text from the document into text nodes only', async () => {
    const { root } = await renderPage(doc, events);
    const texts = [...root.walk()].filter((n) => n.tag === '#text').map((n) => n.data);
    expect(texts).toContain('Send a test <img src=x onerror=alert(1)>');
    expect([...root.walk()].some((n) => n.tag === 'img')).toBe(false);
  });

  it('renders a recursive schema without looping', async () => {
    const { byId } = await renderPage(doc, events);
    expect(byId.ops!.textContent).toContain('(see above)');
  });

  it('links the event schemas, ignoring anything that is not a same-origin path', async () => {
    const { byId } = await renderPage(doc, events);
    const links = [...byId['events-list']!.walk()].filter((n) => n.tag === 'a').map((n) => n.getAttribute('href'));
    expect(links).toEqual(['/events/schemas/email-events.v1.schema.json']);
  });

  it('filters operations by the search box', async () => {
    const { byId, root } = await renderPage(doc, events);
    byId.filter!.dispatch('input', { target: { value: 'ADMIN' } });
    const ops = [...root.walk()].filter((n) => n.tag === 'details');
    const visible = ops.filter((n) => !n.className.includes('hidden')).map((n) => n.getAttribute('data-search'));
    // "admin" matches the admin path and the admin-only routes' permission.
    expect(visible.every((s) => s!.includes('admin'))).toBe(true);
    expect(visible.length).toBeLessThan(ops.length);
  });
});
