// Unit tests of the text part derived from a template's HTML (no stack needed): the derived text
// template must say what converting each rendered HTML says, or not be used at all.
import { htmlToText, renderMessage, type RenderableTemplate } from '../src/templates/render';
import { deriveTextTemplate } from '../src/templates/text-part';

let seq = 0;
function tpl(parts: Partial<RenderableTemplate>): RenderableTemplate {
  return {
    id: `tpl_text${seq++}`,
    version: 1,
    subject: 'Hi',
    preheader: '',
    html: '<p>x</p>',
    text: null,
    layout: null,
    partials: {},
    ...parts,
  };
}

/** What the per-message conversion of the rendered HTML gives (the behaviour the derived template replaces). */
function converted(t: RenderableTemplate, data: Record<string, unknown>): string {
  return htmlToText(renderMessage(t, data).html);
}

const people = [
  {
    first_name: 'Zoë',
    vip: true,
    code: 'GOLD-7',
    items: [{ name: 'Tea' }, { name: 'Cake & cream' }],
    url: 'https://shop.example.com/s?a=1&b=2',
  },
  { first_name: '<b>Bo</b>', vip: false, code: null, items: [], url: 'https://shop.example.com/t' },
];

// Templates whose derived text is exactly the converted one, for every person above.
const faithful: Array<[string, Partial<RenderableTemplate>]> = [
  [
    'a paragraph and a static link',
    { html: '<html><body><p>Hi {{first_name}}, see <a href="https://shop.example.com/a">our sale</a>.</p></body></html>' },
  ],
  ['a link to a URL from the data', { html: '<p><a href="{{url}}">Shop now</a></p>' }],
  ['a heading (upper-cased, values too)', { html: '<h1>Hello {{first_name}}</h1><p>Body</p>' }],
  [
    'if / else between paragraphs',
    { html: '<p>Hi {{first_name}}</p>{{#if vip}}<p>Your code: {{code}}</p>{{else}}<p>Join the club</p>{{/if}}<p>Bye</p>' },
  ],
  ['if inside a sentence', { html: '<p>Hi {{first_name}}{{#if vip}}, our VIP{{/if}}!</p>' }],
  ['each over paragraphs', { html: '<p>Your cart:</p>{{#each items}}<p>{{name}}</p>{{/each}}<p>Total</p>' }],
  ['each inside list items', { html: '<ul><li>{{#each items}}{{name}}; {{/each}}</li></ul>' }],
  ['entities and escaping', { html: '<p>Tom &amp; Jerry say &lt;hi&gt; to {{first_name}}</p>' }],
  ['whitespace control', { html: '<p>A</p>\n  {{~#if vip~}}\n  <p>B {{~first_name~}} C</p>\n  {{~/if~}}\n<p>D</p>' }],
  ['a comment', { html: '<p>A{{!-- not shown --}}B {{first_name}}</p>' }],
  [
    'a layout around the body',
    {
      html: '<p>Hi {{first_name}}</p>',
      layout: { id: 'lay_t1', version: 1, html: '<html><body><p>Acme</p>{{{body}}}<p>Unsubscribe below</p></body></html>', text: null },
    },
  ],
  [
    'a heading inside a block, nested blocks',
    {
      html: '<p>Intro</p>{{#if vip}}<h2>For {{first_name}}</h2>{{#each items}}<p>{{name}}{{#if @last}}.{{/if}}</p>{{/each}}{{/if}}<p>Outro</p>',
    },
  ],
  [
    'unless and with',
    { html: '{{#unless vip}}<p>Not yet a member</p>{{/unless}}{{#with items.[0]}}<p>First: {{name}}</p>{{/with}}<p>End</p>' },
  ],
  ['helpers', { html: '<p>{{default code "no code"}} for {{first_name}}</p>' }],
  [
    'a partial',
    {
      html: '<p>Hi {{first_name}}</p>{{> footer}}',
      partials: { footer: { version: 1, content: '<p>Acme &amp; Sons, {{first_name}}</p>' } },
    },
  ],
];

describe('derived text equals converting the rendered HTML', () => {
  test.each(faithful)('%s', (_name, parts) => {
    const t = tpl(parts);
    for (const person of people) {
      expect(renderMessage(t, person).text).toBe(converted(t, person));
    }
  });
});

test('long values: the same words, wrapped where the value makes the line long', () => {
  const t = tpl({
    html: '<p>Dear {{first_name}}, this is a paragraph long enough to be wrapped by the conversion at a hundred columns of text.</p>',
  });
  const data = { first_name: 'Maximiliane Alexandrina Konstantinopoulou-Wittgenstein' };
  expect(renderMessage(t, data).text.split(/\s+/)).toEqual(converted(t, data).split(/\s+/));
});

test('a template that cannot be derived faithfully still gets the converted text (per message)', () => {
  const t = tpl({ html: '<p>{{{trusted}}}</p><table>{{#each items}}<tr><td>{{name}}</td></tr>{{/each}}</table>' });
  const data = { trusted: '<b>Bold</b> and <i>italic</i>', items: [{ name: 'Tea' }, { name: 'Cake' }] };
  expect(renderMessage(t, data).text).toBe(converted(t, data));
  expect(renderMessage(t, data).text).toContain('Bold and italic');
});

const toText = (html: string) => htmlToText(html);

test.each([
  ['raw output from the data', '<p>{{{trusted}}}</p>'],
  ['ampersand raw output', '<p>{{& trusted}}</p>'],
  ['a block tag inside an attribute', '<p class="{{#if vip}}gold">x</p><p>{{/if}}</p>'],
  ['a block tag between table rows', '<table>{{#each items}}<tr><td>{{name}}</td></tr>{{/each}}</table>'],
  ['a block tag between list items', '<ul>{{#each items}}<li>{{name}}</li>{{/each}}</ul>'],
  ['a block tag inside a heading', '<h2>{{#if vip}}VIP{{/if}}</h2>'],
  ['an else-if chain', '{{#if a}}<p>A</p>{{else if b}}<p>B</p>{{/if}}'],
  ['a partial block', '{{#> layout}}<p>x</p>{{/layout}}'],
  ['literal braces', '<p>\\{{not a tag}} {{x}}</p>'],
  ['a literal backslash', '<p>C:\\dir {{x}}</p>'],
  ['private-use characters in the HTML', '<p>\uE0000\uE001 {{x}}</p>'],
])('not derived: %s', (_name, html) => {
  expect(deriveTextTemplate(html, toText)).toBeNull();
});

test('the layout body is the one raw output allowed, and only where asked', () => {
  expect(deriveTextTemplate('<div>{{{body}}}</div>', toText, { rawAllowed: ['body'] })).toBe('{{{body}}}');
  expect(deriveTextTemplate('<div>{{{body}}}</div>', toText)).toBeNull();
});

test('derived templates keep expressions as written, drop comments and whitespace control, and wrap heading values', () => {
  expect(deriveTextTemplate('<p>Hi {{~ first_name ~}}!{{! note }}</p><h1>{{title}}</h1>', toText)).toBe(
    'Hi{{ first_name }}!\n\n\n{{#payamUpperCase}}{{title}}{{/payamUpperCase}}',
  );
});
