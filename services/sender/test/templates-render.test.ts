// Unit tests of the renderer (no stack needed).
import { compiledTemplateCacheSize, renderMessage, templateSourceProblem, templateVariables, TemplateRenderError, type RenderableTemplate } from '../src/templates/render';

let seq = 0;
function tpl(parts: Partial<RenderableTemplate>): RenderableTemplate {
  return { id: `tpl_unit${seq++}`, version: 1, subject: 'Hi', preheader: '', html: '<p>x</p>', text: null, layout: null, partials: {}, ...parts };
}

test('renders subject, preheader, html and a text part derived from the HTML', () => {
  const out = renderMessage(
    tpl({ subject: 'Hello {{first_name}} & co', preheader: 'Sale for {{first_name}}', html: '<html><body><h1>Hi {{first_name}}</h1><p><a href="{{url}}">Shop</a></p></body></html>' }),
    { first_name: 'Zoë', url: 'https://example.com/s' },
  );
  expect(out.subject).toBe('Hello Zoë & co'); // not HTML-escaped: a subject is not HTML
  expect(out.preheader).toBe('Sale for Zoë');
  expect(out.html).toContain('<body><div style="display:none');
  expect(out.html).toContain('<h1>Hi Zoë</h1>');
  expect(out.text).toContain('HI ZOË');
  expect(out.text).toContain('Shop [https://example.com/s]');
  expect(out.text).not.toContain('Sale for'); // the hidden preheader is not body text
  expect(out.missingVariables).toEqual([]);
});

test('HTML-escapes by default; triple braces are the explicit opt-out', () => {
  const out = renderMessage(tpl({ html: '<p>{{name}}</p><div>{{{trusted}}}</div>' }), { name: '<script>alert(1)</script>', trusted: '<b>ok</b>' });
  expect(out.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(out.html).toContain('<b>ok</b>');
});

test('layouts wrap the body; partials are found by name; text templates are used when given', () => {
  const out = renderMessage(
    tpl({
      html: '<p>Hi {{name}}</p>{{> footer}}',
      text: 'Hi {{name}} <3',
      layout: { id: 'lay_1', version: 1, html: '<html><body><header>{{brand}}</header>{{{body}}}</body></html>', text: '{{body}}\n-- {{brand}}' },
      partials: { footer: { version: 1, content: '<footer>{{company}}</footer>' } },
    }),
    { name: 'Ann', brand: 'Acme', company: 'Acme & Sons' },
  );
  expect(out.html).toMatch(/<header>Acme<\/header><p>Hi Ann<\/p><footer>Acme &amp; Sons<\/footer>/);
  expect(out.text).toBe('Hi Ann <3\n-- Acme');
});

test.each([
  ['formatDate default', '{{formatDate d}}', { d: '2024-03-05T10:00:00Z' }, 'Mar 5, 2024'],
  ['formatDate long de-DE', '{{formatDate d style="long" locale="de-DE"}}', { d: '2024-03-05T10:00:00Z' }, '5. März 2024'],
  ['formatDate time zone', '{{formatDate d "short" time="short" timeZone="Asia/Tokyo"}}', { d: '2024-03-05T20:00:00Z' }, '3/6/24, 5:00 AM'],
  ['formatDate garbage', '[{{formatDate d}}]', { d: 'not a date' }, '[]'],
  ['formatDate bad locale', '[{{formatDate d locale="!!"}}]', { d: '2024-03-05' }, '[]'],
  ['formatNumber', '{{formatNumber n}}', { n: 1234567.891 }, '1,234,567.891'],
  ['formatNumber digits', '{{formatNumber n maximumFractionDigits=1 locale="de-DE"}}', { n: 1234.56 }, '1.234,6'],
  ['formatNumber percent', '{{formatNumber n style="percent"}}', { n: 0.25 }, '25%'],
  ['currency', '{{currency n "EUR" locale="de-DE"}}', { n: 9.5 }, '9,50\u00a0€'],
  ['currency default USD', '{{currency n}}', { n: 1234.5 }, '$1,234.50'],
  ['currency bad code', '[{{currency n "NOPE!"}}]', { n: 1 }, '[]'],
  ['default used', 'Hi {{default first_name "there"}}', {}, 'Hi there'],
  ['default empty string', 'Hi {{default first_name "there"}}', { first_name: '' }, 'Hi there'],
  ['default not used', 'Hi {{default first_name "there"}}', { first_name: 'Bo' }, 'Hi Bo'],
])('helper %s', (_n, source, data, expected) => {
  expect(renderMessage(tpl({ subject: source }), data).subject).toBe(expected);
});

test('missing variables: root paths the data lacks, through blocks, partials and layouts', () => {
  const t = tpl({
    subject: '{{default first_name "there"}}, {{offer.title}}',
    html:
      '{{#if vip}}{{vip_code}}{{/if}}{{#each items}}{{name}}{{../currency}}{{@root.shop}}{{/each}}' +
      '{{#with address}}{{street}}{{/with}}{{formatDate signup_at}}{{> sig}}{{this}}{{@index}}',
    layout: { id: 'lay_v', version: 1, html: '{{{body}}}{{brand}}', text: null },
    partials: { sig: { version: 1, content: '{{signature}}' } },
  });
  expect(templateVariables(t)).toEqual(
    ['address', 'brand', 'currency', 'items', 'offer.title', 'shop', 'signature', 'signup_at', 'vip', 'vip_code'].sort(),
  );
  const out = renderMessage(t, { offer: { title: 'x' }, vip: false, items: [], address: null, brand: 'B', shop: 's', signature: 'S', signup_at: '2024-01-01' });
  expect(out.missingVariables).toEqual(['address', 'currency', 'vip_code']);
});

describe('templates cannot reach prototypes or run code', () => {
  const attempts: Array<[string, string]> = [
    ['constructor.constructor call', '{{constructor.constructor "return process"}}'],
    ['constructor via lookup', '{{#with (lookup this "constructor")}}{{#with (lookup this "constructor")}}{{this "return process.exit()"}}{{/with}}{{/with}}'],
    ['__proto__', 'x{{__proto__}}y'],
    ['__proto__ of an attribute', 'x{{name.__proto__.constructor}}y'],
    ['__defineGetter__', '{{__defineGetter__ "a" "b"}}'],
    ['string methods', '{{#with "s"}}{{#with split as |a|}}{{pop (push "alert(1)")}}{{/with}}{{/with}}'],
    ['toString', 'x{{name.toString}}y'],
    ['log helper', '{{log "pwned" level="error"}}'],
    ['prototype pollution through lookup', '{{lookup (lookup this "__proto__") "polluted"}}'],
  ];
  test.each(attempts)('%s renders nothing harmful', (_n, source) => {
    const before = Object.keys(Object.prototype).length;
    let output = '';
    for (const part of ['subject', 'html'] as const) {
      try {
        output += renderMessage(tpl({ [part]: source }), { name: 'Ann' })[part];
      } catch (err) {
        // Failing is a safe outcome too, as long as it is our error and nothing ran.
        expect(err).toBeInstanceOf(TemplateRenderError);
      }
    }
    expect(output).not.toMatch(/function|native code|\[object|process|pwned/);
    expect(Object.keys(Object.prototype).length).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

test('an unknown partial or helper fails the render with a TemplateRenderError', () => {
  expect(() => renderMessage(tpl({ html: '{{> nope}}' }), {})).toThrow(TemplateRenderError);
  expect(() => renderMessage(tpl({ html: '{{shout name}}' }), { name: 'x' })).toThrow(/Missing helper/);
  expect(() => renderMessage(tpl({ html: '{{> loop}}', partials: { loop: { version: 1, content: '{{> loop}}' } } }), {})).toThrow(TemplateRenderError);
});

test('compiled templates are cached by id and version', () => {
  const t = tpl({ html: '<p>{{a}}</p>' });
  renderMessage(t, { a: 1 });
  const size = compiledTemplateCacheSize();
  renderMessage(t, { a: 2 });
  expect(compiledTemplateCacheSize()).toBe(size);
  const v2 = renderMessage({ ...t, version: 2, html: '<p>v2 {{a}}</p>' }, { a: 3 });
  expect(v2.html).toContain('v2 3');
  expect(compiledTemplateCacheSize()).toBeGreaterThan(size);
});

test.each([
  ['unclosed block', 'hello {{#if x}} no close', 1, 25],
  ['second line', 'line one\nab {{foo', 2, 6],
  // Handlebars places a mismatch at the block it opened.
  ['mismatched close', '{{#each a}}\n  x{{/with}}', 1, 4],
  ['empty partial', 'a\nb\n  {{> }}', 3, 7],
])('%s: the compile problem names line and column', (_n, source, line, column) => {
  const p = templateSourceProblem(source, 'body.html');
  expect(p).toMatchObject({ path: 'body.html', line, column });
  expect(p!.message).toContain(`line ${line}, column ${column}`);
});
