import { selfContainedPage, type SelfContainedPage } from './self-contained-page';

/*
 * /docs: one self-contained page that fetches ./openapi.json and renders it. No CDN and no
 * external asset (the services run without internet and readers may be offline). The script
 * builds the DOM with createElement/textContent only, so nothing from the document is ever
 * parsed as HTML. The inline style and script are allowed by hash in the page's CSP.
 */

const STYLE = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee8; --bg: #f6f7fa; --code: #eef1f6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { background: #20273a; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 4px 0 0; color: #c9d0de; white-space: pre-wrap; }
header a { color: #9cc3ff; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 28px 60px; }
nav { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; margin: 8px 0 16px; }
nav a { color: #2456b3; text-decoration: none; }
input[type=search] { padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; min-width: 260px; font: inherit; }
h2 { margin: 28px 0 10px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h4 { margin: 14px 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
details.op { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; }
details.op > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
details.op > div { padding: 4px 14px 14px; border-top: 1px solid var(--line); }
.method { font: 700 12px ui-monospace, Menlo, Consolas, monospace; text-transform: uppercase; color: #fff; border-radius: 4px; padding: 2px 8px; min-width: 62px; text-align: center; }
.m-get { background: #2f7d4f; } .m-post { background: #2456b3; } .m-put, .m-patch { background: #a3600d; } .m-delete { background: #b3262b; }
.path { font: 600 14px ui-monospace, Menlo, Consolas, monospace; }
.perm { font-size: 12px; border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; color: var(--muted); }
.perm-public { border-color: #8bc49f; color: #2f7d4f; } .perm-admin { border-color: #e0a0a2; color: #b3262b; }
.summary { color: var(--muted); }
.desc { white-space: pre-wrap; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; background: #fff; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; font-size: 12px; }
td table { margin: 6px 0 2px; }
code, .type { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.type { background: var(--code); border-radius: 4px; padding: 0 5px; }
.req { color: #b3262b; font-weight: 600; }
.muted { color: var(--muted); }
.facts { margin: 2px 0 0; padding: 0; list-style: none; color: var(--muted); font-size: 12.5px; }
.ref { color: #6b3fa0; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
ul.alts { margin: 4px 0; padding-left: 18px; }
.error { color: #b3262b; font-weight: 600; }
.hidden { display: none; }
`;

// Plain ES2017 without template literals, so it sits unchanged inside this TypeScript string.
const SCRIPT = `
(function () {
  'use strict';
  var doc = null;
  var MAX_DEPTH = 6;

  function h(tag, cls, children) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    add(el, children);
    return el;
  }
  function add(el, children) {
    if (children === null || children === undefined || children === false) return;
    if (Array.isArray(children)) { children.forEach(function (c) { add(el, c); }); return; }
    el.appendChild(typeof children === 'object' ? children : document.createTextNode(String(children)));
  }
  function link(href, text) { var a = h('a', null, text); a.setAttribute('href', href); return a; }
  function json(v) { return JSON.stringify(v); }
  function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  // Local refs only ("#/components/..."); anything else is shown as text, never fetched.
  function deref(node) {
    if (!isObj(node) || typeof node.$ref !== 'string' || node.$ref.indexOf('#/') !== 0) return null;
    var parts = node.$ref.slice(2).split('/');
    var cur = doc;
    for (var i = 0; i < parts.length && cur !== undefined; i++) {
      cur = isObj(cur) ? cur[parts[i].replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    }
    return cur === undefined ? null : { name: parts[parts.length - 1], value: cur };
  }

  function typeOf(s) {
    if (!isObj(s)) return s === false ? 'never' : 'any';
    if (s.const !== undefined) return 'const ' + json(s.const);
    var t = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
    if (t === 'array') return 'array';
    if (!t && s.properties) return 'object';
    if (!t && (s.anyOf || s.oneOf)) return 'one of';
    if (!t && s.allOf) return 'all of';
    if (!t && s.enum) return 'enum';
    return t || 'any';
  }

  var SAFE_LIMIT = 9007199254740991;
  function facts(s) {
    var out = [];
    if (!isObj(s)) return out;
    if (s.format) out.push('format: ' + s.format);
    if (s.enum) out.push('one of: ' + s.enum.map(json).join(', '));
    if (s.pattern) out.push('pattern: ' + s.pattern);
    if (s.minLength !== undefined) out.push('min length: ' + s.minLength);
    if (s.maxLength !== undefined) out.push('max length: ' + s.maxLength);
    if (s.minimum !== undefined && Math.abs(s.minimum) !== SAFE_LIMIT) out.push('minimum: ' + s.minimum);
    if (s.maximum !== undefined && Math.abs(s.maximum) !== SAFE_LIMIT) out.push('maximum: ' + s.maximum);
    if (s.exclusiveMinimum !== undefined) out.push('greater than: ' + s.exclusiveMinimum);
    if (s.exclusiveMaximum !== undefined) out.push('less than: ' + s.exclusiveMaximum);
    if (s.minItems !== undefined) out.push('min items: ' + s.minItems);
    if (s.maxItems !== undefined) out.push('max items: ' + s.maxItems);
    if (s.default !== undefined) out.push('default: ' + json(s.default));
    if (Array.isArray(s.examples) && s.examples.length) out.push('example: ' + s.examples.map(json).join(', '));
    if (s.additionalProperties === false) out.push('no other fields');
    return out;
  }

  // A schema as readable nested tables: objects list their fields, arrays their items,
  // unions their alternatives; components appear by name and are expanded once per branch.
  function schemaView(s, depth, seen) {
    var r = deref(s);
    if (r) {
      var label = h('span', 'ref', r.name);
      if (seen.indexOf(r.name) >= 0 || depth > MAX_DEPTH) return h('div', null, [label, h('span', 'muted', ' (see above)')]);
      return h('div', null, [label, schemaView(r.value, depth + 1, seen.concat([r.name]))]);
    }
    if (!isObj(s)) return h('span', 'type', typeOf(s));
    var box = h('div');
    if (s.description) box.appendChild(h('div', 'desc', s.description));
    var alts = s.anyOf || s.oneOf || s.allOf;
    if (alts) {
      box.appendChild(h('div', 'muted', s.allOf ? 'all of:' : 'one of:'));
      box.appendChild(h('ul', 'alts', alts.map(function (a) { return h('li', null, schemaView(a, depth + 1, seen)); })));
    }
    var t = typeOf(s);
    if (isObj(s.properties)) {
      var required = Array.isArray(s.required) ? s.required : [];
      var rows = Object.keys(s.properties).map(function (name) {
        var p = s.properties[name];
        return h('tr', null, [
          h('td', null, [h('code', null, name), required.indexOf(name) >= 0 ? h('span', 'req', ' *') : null]),
          h('td', null, cell(p, depth, seen)),
        ]);
      });
      box.appendChild(h('table', null, [h('tr', null, [h('th', null, 'field (* required)'), h('th', null, 'schema')]), rows]));
      if (isObj(s.additionalProperties)) box.appendChild(h('div', null, ['other fields: ', cell(s.additionalProperties, depth, seen)]));
    } else if (t === 'array') {
      box.appendChild(h('div', null, [h('span', 'type', 'array'), ' of']));
      if (s.items !== undefined) box.appendChild(schemaView(s.items, depth + 1, seen));
    } else if (!alts) {
      box.appendChild(h('span', 'type', t));
    }
    var f = facts(s);
    if (f.length) box.appendChild(h('ul', 'facts', f.map(function (x) { return h('li', null, x); })));
    return box;
  }
  function cell(p, depth, seen) {
    if (depth > MAX_DEPTH) return h('span', 'muted', '…');
    return schemaView(p, depth + 1, seen);
  }

  function permissionOf(op) { return op['x-permission'] || (op.security && op.security.length === 0 ? 'public' : 'authenticated'); }
  var PERMISSION_TEXT = {
    public: 'Public: no credentials.',
    workspace: 'Workspace API key: Authorization: Bearer <key>, or the X-Api-Key header.',
    admin: 'Operator secret: Authorization: Bearer <ADMIN_SECRET>.'
  };

  function operationView(path, method, op) {
    var perm = permissionOf(op);
    var summary = h('summary', null, [
      h('span', 'method m-' + method, method),
      h('span', 'path', path),
      h('span', 'perm perm-' + perm, perm),
      op.summary ? h('span', 'summary', op.summary) : null,
    ]);
    var body = h('div');
    if (op.description) body.appendChild(h('div', 'desc', op.description));
    body.appendChild(h('p', 'muted', PERMISSION_TEXT[perm] || perm));

    var params = (op.parameters || []).map(function (p) { return deref(p) ? deref(p).value : p; });
    if (params.length) {
      body.appendChild(h('h4', null, 'Parameters'));
      body.appendChild(h('table', null, [
        h('tr', null, ['name', 'in', 'required', 'schema'].map(function (x) { return h('th', null, x); })),
        params.map(function (p) {
          return h('tr', null, [
            h('td', null, h('code', null, p.name)),
            h('td', null, p.in),
            h('td', null, p.required ? h('span', 'req', 'yes') : 'no'),
            h('td', null, schemaView(p.schema, 0, [])),
          ]);
        }),
      ]));
    }
    if (op.requestBody) {
      var rb = deref(op.requestBody) ? deref(op.requestBody).value : op.requestBody;
      body.appendChild(h('h4', null, 'Request body' + (rb.required ? ' (required)' : ' (optional)')));
      Object.keys(rb.content || {}).forEach(function (type) {
        body.appendChild(h('div', null, h('code', null, type)));
        body.appendChild(schemaView(rb.content[type].schema, 0, []));
      });
    }
    body.appendChild(h('h4', null, 'Responses'));
    var responses = op.responses || {};
    body.appendChild(h('table', null, [
      h('tr', null, ['status', 'description', 'body'].map(function (x) { return h('th', null, x); })),
      Object.keys(responses).map(function (status) {
        var r = deref(responses[status]) ? deref(responses[status]).value : responses[status];
        var content = r.content || {};
        return h('tr', null, [
          h('td', null, h('code', null, status)),
          h('td', null, r.description || ''),
          h('td', null, Object.keys(content).map(function (type) {
            return h('div', null, [h('code', 'muted', type), schemaView(content[type].schema, 0, [])]);
          })),
        ]);
      }),
    ]));
    var details = h('details', 'op', [summary, body]);
    details.setAttribute('data-search', (method + ' ' + path + ' ' + (op.summary || '') + ' ' + perm).toLowerCase());
    return details;
  }

  function render() {
    var info = doc.info || {};
    document.title = (info.title || 'API') + ' ' + (info.version || '');
    var header = document.getElementById('top');
    header.textContent = '';
    add(header, [
      h('h1', null, (info.title || 'API') + ' '),
      h('div', null, ['OpenAPI ' + doc.openapi + ', version ' + (info.version || '?') + ' · ', link('openapi.json', 'openapi.json'), ' · ', link('#events', 'event schemas')]),
      info.description ? h('p', null, info.description) : null,
    ]);
    var groups = {};
    var order = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(doc.paths || {}).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        if (!isObj(op) || !op.responses) return;
        var tag = (op.tags && op.tags[0]) || 'default';
        if (order.indexOf(tag) < 0) order.push(tag);
        (groups[tag] = groups[tag] || []).push(operationView(path, method, op));
      });
    });
    var main = document.getElementById('ops');
    main.textContent = '';
    var nav = document.getElementById('nav');
    order.forEach(function (tag, i) {
      if (!groups[tag]) return;
      var title = h('h2', null, tag);
      title.id = 'tag-' + i;
      nav.appendChild(link('#tag-' + i, tag + ' (' + groups[tag].length + ')'));
      main.appendChild(h('section', 'tag', [title, groups[tag]]));
    });
  }

  function renderEvents(index) {
    var box = document.getElementById('events-list');
    box.textContent = '';
    var schemas = (index && index.schemas) || {};
    var items = Object.keys(schemas).filter(function (topic) {
      var url = schemas[topic];
      return typeof url === 'string' && url.charAt(0) === '/' && url.charAt(1) !== '/';
    }).map(function (topic) { return h('li', null, [h('code', null, topic), ' ', link(schemas[topic], 'JSON Schema')]); });
    add(box, items.length ? h('ul', null, items) : h('p', 'muted', 'No event schemas published.'));
  }

  document.getElementById('filter').addEventListener('input', function (e) {
    var q = e.target.value.trim().toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll('details.op'), function (d) {
      d.classList.toggle('hidden', q !== '' && d.getAttribute('data-search').indexOf(q) < 0);
    });
  });

  fetch('openapi.json', { headers: { accept: 'application/json' } })
    .then(function (res) { if (!res.ok) throw new Error('openapi.json answered ' + res.status); return res.json(); })
    .then(function (d) { doc = d; render(); })
    .catch(function (err) { document.getElementById('ops').textContent = ''; add(document.getElementById('ops'), h('p', 'error', 'Could not load the API document: ' + err.message)); });
  fetch('events/schemas')
    .then(function (res) { return res.ok ? res.json() : null; })
    .then(renderEvents)
    .catch(function () { renderEvents(null); });
})();
`;

export type DocsPage = SelfContainedPage;

export function docsPage(): DocsPage {
  return selfContainedPage({
    title: 'API documentation',
    style: STYLE,
    script: SCRIPT,
    body: `<header id="top"><h1>API documentation</h1><p>Loading openapi.json…</p></header>
<main>
<nav id="nav"><input id="filter" type="search" placeholder="Filter by path, method, summary" aria-label="Filter operations"></nav>
<div id="ops"></div>
<section id="events"><h2>Event schemas (Kafka record values, JSON Schema 2020-12)</h2><div id="events-list" class="muted">Loading…</div></section>
</main>`,
  });
}
