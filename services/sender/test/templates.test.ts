import { startSender, type SenderHarness, type TestWorkspace } from './sender-harness';

let h: SenderHarness;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  h = await startSender({ dbPrefix: 'payam_test_sender_templates', only: [] });
  a = await h.createWorkspace('A');
  b = await h.createWorkspace('B');
});
afterAll(async () => {
  await h?.close();
});

test('template with layout and partial: save, preview for a contact and for sample data', async () => {
  const layout = await h.as(a.token).post('/layouts').send({ name: 'Base', html: '<html><body><header>{{brand}}</header>{{{body}}}</body></html>' });
  expect(layout.status).toBe(201);
  expect((await h.as(a.token).put('/partials/footer').send({ content: '<footer>Bye {{default first_name "friend"}}</footer>' })).status).toBe(201);
  const created = await h.as(a.token).post('/templates').send({
    name: 'Welcome',
    subject: 'Welcome {{default first_name "there"}}',
    preheader: 'Your {{plan}} plan',
    html: '<h1>Hi {{first_name}}</h1><p>Since {{formatDate signup_at style="long"}} you have {{formatNumber points}} points.</p>{{> footer}}',
    layoutId: layout.body.layoutId,
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ version: 1, text: null });
  const templateId = created.body.templateId as string;

  const contact = await h.as(a.token).post('/contacts').send({
    email: 'preview@example.com',
    attributes: { first_name: '<Ann>', signup_at: '2024-02-01T00:00:00Z', points: 12345 },
  });
  const forContact = await h.as(a.token).post(`/templates/${templateId}/preview`).send({ contactId: contact.body.contactId });
  expect(forContact.status).toBe(200);
  expect(forContact.body.subject).toBe('Welcome <Ann>');
  expect(forContact.body.html).toContain('<h1>Hi &lt;Ann&gt;</h1>');
  expect(forContact.body.html).toContain('February 1, 2024');
  expect(forContact.body.html).toContain('12,345');
  expect(forContact.body.html).toContain('<footer>Bye &lt;Ann&gt;</footer>');
  expect(forContact.body.text).toContain('HI <ANN>'); // html-to-text capitalises headings
  expect(forContact.body.missingVariables).toEqual(['brand', 'plan']);
  expect(forContact.body.variables).toEqual(expect.arrayContaining(['first_name', 'plan', 'brand', 'points', 'signup_at']));

  const sample = await h.as(a.token).post(`/templates/${templateId}/preview`).send({ data: { plan: 'gold', brand: 'Acme' } });
  expect(sample.body.subject).toBe('Welcome there');
  expect(sample.body.preheader).toBe('Your gold plan');
  expect(sample.body.missingVariables).toEqual(['first_name', 'points', 'signup_at']);

  // Editing the partial changes the next render (its version is part of the cache key).
  await h.as(a.token).put('/partials/footer').send({ content: '<footer>Ciao</footer>' }).expect(200);
  expect((await h.as(a.token).post(`/templates/${templateId}/preview`).send({})).body.html).toContain('<footer>Ciao</footer>');
  const patched = await h.as(a.token).patch(`/templates/${templateId}`).send({ subject: 'New {{x}}' });
  expect(patched.body.version).toBe(2);
  expect((await h.as(a.token).post(`/templates/${templateId}/preview`).send({ data: { x: 1 } })).body.subject).toBe('New 1');

  // A layout in use cannot go; after the template goes, it can.
  expect((await h.as(a.token).delete(`/layouts/${layout.body.layoutId}`)).status).toBe(409);
  await h.as(a.token).delete(`/templates/${templateId}`).expect(204);
  await h.as(a.token).delete(`/layouts/${layout.body.layoutId}`).expect(204);
});

test('a template that does not compile → 400 with line and column, per part', async () => {
  const res = await h.as(a.token).post('/templates').send({
    name: 'Broken',
    subject: 'Hi {{name',
    html: '<p>ok</p>\n<p>{{#if x}}never closed</p>',
  });
  expect(res.status).toBe(400);
  const byPath = Object.fromEntries(res.body.error.details.map((d: { path: string }) => [d.path, d]));
  expect(byPath['body.subject']).toMatchObject({ line: 1, column: expect.any(Number) });
  expect(byPath['body.html']).toMatchObject({ line: 2 });
  expect(byPath['body.html'].message).toMatch(/line 2, column \d+/);

  const layout = await h.as(a.token).post('/layouts').send({ name: 'no slot', html: '<body>{{brand}}</body>' });
  expect(layout.status).toBe(400);
  expect(layout.body.error.details[0].path).toBe('body.html');
  const partial = await h.as(a.token).put('/partials/bad').send({ content: '{{#each}}' });
  expect(partial.status).toBe(400);
  expect(partial.body.error.details[0]).toMatchObject({ path: 'body.content', line: 1 });
});

test('injection attempts saved as templates preview safely', async () => {
  const res = await h.as(a.token).post('/templates').send({
    name: 'evil',
    subject: 'x{{__proto__}}{{constructor}}y',
    html: '{{#with (lookup this "constructor")}}{{name}}{{/with}}<p>{{first_name}}</p>',
  });
  expect(res.status).toBe(201);
  const preview = await h.as(a.token).post(`/templates/${res.body.templateId}/preview`).send({ data: { first_name: '<img src=x onerror=alert(1)>' } });
  expect(preview.status).toBe(200);
  expect(preview.body.subject).toBe('xy');
  expect(preview.body.html).toBe('<p>&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;</p>');
  const call = await h.as(a.token).post('/templates').send({ name: 'evil2', subject: 's', html: '{{constructor.constructor "return process"}}' });
  const failed = await h.as(a.token).post(`/templates/${call.body.templateId}/preview`).send({});
  expect(failed.status).toBe(400);
  expect(failed.body.error.code).toBe('render_failed');
});

test("another workspace's key gets 404 on templates, layouts, partials and contacts in previews", async () => {
  const layout = await h.as(a.token).post('/layouts').send({ name: 'L', html: '{{{body}}}' });
  const tpl = await h.as(a.token).post('/templates').send({ name: 'T', subject: 's', html: '<p>{{secret}}</p>' });
  await h.as(a.token).put('/partials/a_only').send({ content: 'A' }).expect(201);
  const contact = await h.as(a.token).post('/contacts').send({ email: 'tpl-secret@example.com', attributes: { secret: 'classified' } });
  const attempts = [
    h.as(b.token).get(`/templates/${tpl.body.templateId}`),
    h.as(b.token).patch(`/templates/${tpl.body.templateId}`).send({ name: 'x' }),
    h.as(b.token).post(`/templates/${tpl.body.templateId}/preview`).send({}),
    h.as(b.token).delete(`/templates/${tpl.body.templateId}`),
    h.as(b.token).get(`/layouts/${layout.body.layoutId}`),
    h.as(b.token).patch(`/layouts/${layout.body.layoutId}`).send({ name: 'x' }),
    h.as(b.token).delete(`/layouts/${layout.body.layoutId}`),
    h.as(b.token).get('/partials/a_only'),
    h.as(b.token).delete('/partials/a_only'),
  ];
  for (const res of await Promise.all(attempts)) expect(res.status).toBe(404);
  // B's own template cannot render A's contact, nor use A's layout.
  const mine = await h.as(b.token).post('/templates').send({ name: 'B', subject: 's', html: '<p>{{secret}}</p>' });
  const peek = await h.as(b.token).post(`/templates/${mine.body.templateId}/preview`).send({ contactId: contact.body.contactId });
  expect(peek.status).toBe(404);
  expect(JSON.stringify(peek.body)).not.toContain('classified');
  const borrow = await h.as(b.token).post('/templates').send({ name: 'B2', subject: 's', html: 'x', layoutId: layout.body.layoutId });
  expect(borrow.status).toBe(400);
  expect(borrow.body.error.details[0].path).toBe('body.layoutId');
  const withPartial = await h.as(b.token).post('/templates').send({ name: 'B3', subject: 's', html: '{{> a_only}}' });
  expect((await h.as(b.token).post(`/templates/${withPartial.body.templateId}/preview`).send({})).status).toBe(400);
  expect((await h.as(b.token).get('/templates')).body.items.map((t: { name: string }) => t.name).sort()).toEqual(['B', 'B2', 'B3'].filter((n) => n !== 'B2'));
});

test.each([
  ['template without subject', 'post', '/templates', { name: 'x', html: 'x' }, 'body.subject'],
  ['template without html', 'post', '/templates', { name: 'x', subject: 'x' }, 'body.html'],
  ['template with a subject too long', 'post', '/templates', { name: 'x', subject: 'x'.repeat(999), html: 'x' }, 'body.subject'],
  ['template with an unknown field', 'post', '/templates', { name: 'x', subject: 's', html: 'x', from: 'a' }, 'body'],
  ['template with a bad layout id', 'post', '/templates', { name: 'x', subject: 's', html: 'x', layoutId: 'bad id' }, 'body.layoutId'],
  ['template patch with nothing', 'patch', '/templates/tpl_1', {}, 'body'],
  ['template with a bad id', 'get', '/templates/bad%20id', undefined, 'params.templateId'],
  ['preview with both contact and data', 'post', '/templates/tpl_1/preview', { contactId: 'ct_1', data: {} }, 'body.data'],
  ['preview with data not an object', 'post', '/templates/tpl_1/preview', { data: 'x' }, 'body.data'],
  ['layout without html', 'post', '/layouts', { name: 'x' }, 'body.html'],
  ['partial with a bad name', 'put', '/partials/bad.name', { content: 'x' }, 'params.name'],
  ['partial without content', 'put', '/partials/ok', {}, 'body.content'],
] as const)('%s → 400 with the field path', async (_n, method, path, body, field) => {
  const req = h.as(a.token)[method](path);
  const res = body === undefined ? await req : await req.send(body);
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
});

test('a template a campaign can still send cannot be deleted (409 with the campaign); once it is cancelled, it can', async () => {
  const tpl = await h.as(a.token).post('/templates').send({ name: 'In use', subject: 'Hi', html: '<p>Hi {{first_name}}</p>' }).expect(201);
  const templateId: string = tpl.body.templateId;
  const list = await h.as(a.token).post('/lists').send({ name: 'in-use' }).expect(201);
  const campaign = await h
    .as(a.token)
    .post('/campaigns')
    .send({ name: 'Uses it', templateId, audience: { lists: [list.body.listId] }, from: { name: 'Shop', address: 'news@shop.example.com' } })
    .expect(201);
  const campaignId: string = campaign.body.campaignId;
  for (const state of ['draft', 'scheduled']) {
    if (state === 'scheduled') await h.as(a.token).post(`/campaigns/${campaignId}/schedule`).send({ sendAt: new Date(Date.now() + 86_400_000).toISOString() }).expect(200);
    const refused = await h.as(a.token).delete(`/templates/${templateId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`${state} campaign`);
    expect(refused.body.error.details).toMatchObject({ campaignId, state });
  }
  await h.as(a.token).get(`/templates/${templateId}`).expect(200);
  await h.as(a.token).post(`/campaigns/${campaignId}/cancel`).expect(200);
  await h.as(a.token).delete(`/templates/${templateId}`).expect(204);
});

test.each([
  ['a template', async (p: string) => h.as(a.token).post('/templates').send({ name: 'T', subject: 'Hi', html: `<p>Hi</p>{{> ${p}}}` }), 'templateId', 'templates'],
  ['a layout', async (p: string) => h.as(a.token).post('/layouts').send({ name: 'L', html: `<main>{{{body}}}</main>{{#> ${p}}}fallback{{/${p}}}` }), 'layoutId', 'layouts'],
  ['another partial', async (p: string) => h.as(a.token).put(`/partials/${p}_outer`).send({ content: `<div>{{> ${p}}}</div>` }), 'partial', 'partials'],
])('a partial included by %s cannot be deleted (409 naming it); once that goes, it can', async (_what, createUser, detail, collection) => {
  const name = `p${Math.random().toString(36).slice(2, 8)}`;
  await h.as(a.token).put(`/partials/${name}`).send({ content: '<footer>Bye</footer>' }).expect(201);
  const user = await createUser(name);
  expect(user.status).toBe(201);
  const refused = await h.as(a.token).delete(`/partials/${name}`);
  expect(refused.status).toBe(409);
  const id: string = detail === 'partial' ? `${name}_outer` : user.body[detail];
  expect(refused.body.error.details).toEqual({ [detail]: id });
  await h.as(a.token).delete(`/${collection}/${id}`).expect(204);
  await h.as(a.token).delete(`/partials/${name}`).expect(204);
  await h.as(a.token).delete(`/partials/${name}`).expect(404);
});
