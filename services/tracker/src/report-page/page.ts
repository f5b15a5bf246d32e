import { selfContainedPage, type SelfContainedPage } from '@payam/http';

/**
 * The campaign report as people like to read it: a funnel, opens and clicks over time, human
 * against machine, per-variant results with their intervals, top links, clients and devices.
 *
 * The page is a static shell; its data comes from GET /campaigns/:id/report with the workspace
 * key, which the reader gives in the URL fragment (#key=pk_…, never sent to any server, so it
 * stays out of access logs) or types into the form (kept in sessionStorage for the tab).
 * Self-contained: inline CSS and SVG charts, no CDN (readers may be offline; nothing leaks to
 * third parties), and a CSP that allows exactly this page's own style and script.
 *
 * Every figure carries data-metric="…" so the browser test can check the page shows the
 * report's numbers.
 */

const STYLE = `
:root { --fg:#1d2430; --muted:#5f6b7a; --line:#d9dee5; --human:#2f6fdf; --machine:#b8c4d6; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 24px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; flex: 1; }
main { padding: 16px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 10px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
.muted { color: var(--muted); }
.error { color: #b42318; }
.legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 12px; color: var(--muted); }
.swatch { width: 10px; height: 10px; display: inline-block; border-radius: 2px; }
.human { background: var(--human); } .machine { background: var(--machine); }
input { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; min-width: 280px; }
button { font: inherit; padding: 4px 12px; border: 1px solid var(--human); background: var(--human); color: #fff; border-radius: 4px; cursor: pointer; }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg .axis { stroke: var(--line); }
.url { max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var campaignId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
  var state = document.getElementById('state');

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function num(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'); }
  function pct(r) { return r === null || r === undefined ? '–' : (r * 100).toFixed(2) + '%'; }
  function section(title, wide) {
    var s = el('section', wide ? { class: 'wide' } : {});
    s.appendChild(el('h2', {}, title));
    document.getElementById('report').appendChild(s);
    return s;
  }
  function cell(row, value, metric, cls) {
    var td = el('td', cls ? { class: cls } : {}, value);
    if (metric) td.setAttribute('data-metric', metric);
    row.appendChild(td);
    return td;
  }
  function table(parent, headers) {
    var t = el('table'), tr = el('tr');
    headers.forEach(function (h, i) { tr.appendChild(el('th', i > 0 ? { class: 'num' } : {}, h)); });
    t.appendChild(el('thead')).appendChild(tr);
    parent.appendChild(t);
    return t.appendChild(el('tbody'));
  }
  function legend(parent) {
    var l = el('div', { class: 'legend' });
    [['human', 'human'], ['machine', 'machine (proxies, prefetch, scanners)']].forEach(function (p) {
      var s = el('span'); s.appendChild(el('i', { class: 'swatch ' + p[0] })); s.appendChild(document.createTextNode(p[1])); l.appendChild(s);
    });
    parent.appendChild(l);
  }

  function funnel(report) {
    var c = report.totals.counts;
    var s = section('Funnel', true);
    legend(s);
    var steps = [
      ['sent', 'Sent', c.sent, c.sent],
      ['delivered', 'Delivered', c.delivered, c.delivered],
      ['opened', 'Opened (unique)', c.uniqueHumanOpens, c.uniqueOpens],
      ['clicked', 'Clicked (unique)', c.uniqueHumanClicks, c.uniqueClicks]
    ];
    var max = Math.max.apply(null, steps.map(function (x) { return x[3]; }).concat([1]));
    var W = 760, rowH = 34, labelW = 140, g = svg('svg', { width: '100%', viewBox: '0 0 ' + W + ' ' + (steps.length * rowH + 6), role: 'img', 'aria-label': 'funnel' });
    steps.forEach(function (st, i) {
      var y = i * rowH + 4, full = (W - labelW - 150) * st[3] / max, human = (W - labelW - 150) * st[2] / max;
      g.appendChild(svg('text', { x: 0, y: y + 18 }, st[1]));
      g.appendChild(svg('rect', { x: labelW, y: y, width: Math.max(full, 0), height: 24, fill: '#b8c4d6', 'data-metric': 'funnel.' + st[0] + '.total', 'data-value': st[3] }));
      g.appendChild(svg('rect', { x: labelW, y: y, width: Math.max(human, 0), height: 24, fill: '#2f6fdf', 'data-metric': 'funnel.' + st[0] + '.human', 'data-value': st[2] }));
      var label = st[2] === st[3] ? num(st[3]) : num(st[2]) + ' human / ' + num(st[3]) + ' total';
      g.appendChild(svg('text', { x: labelW + Math.max(full, 0) + 8, y: y + 17, 'data-metric': 'funnel.' + st[0] + '.label' }, label));
    });
    s.appendChild(g);
  }

  function rates(report) {
    var r = report.totals.rates, s = section('Rates: human and total side by side');
    var body = table(s, ['rate', 'human', 'total']);
    [['Delivery', r.delivery, r.delivery, 'delivery'], ['Bounce', r.bounce, r.bounce, 'bounce'],
     ['Complaint', r.complaint, r.complaint, 'complaint'], ['Unsubscribe', r.unsubscribe, r.unsubscribe, 'unsubscribe'],
     ['Open', r.open.human, r.open.total, 'open'], ['Click-through', r.clickThrough.human, r.clickThrough.total, 'clickThrough'],
     ['Click-to-open', r.clickToOpen.human, r.clickToOpen.total, 'clickToOpen']].forEach(function (x) {
      var tr = body.appendChild(el('tr'));
      cell(tr, x[0]);
      cell(tr, pct(x[1]), 'rate.' + x[3] + '.human', 'num');
      cell(tr, pct(x[2]), 'rate.' + x[3] + '.total', 'num');
    });
  }

  function humanVsMachine(report) {
    var c = report.totals.counts, s = section('Human vs machine');
    legend(s);
    var body = table(s, ['', 'human', 'machine', 'total']);
    [['Opens', c.opensHuman, c.opens, 'opens'], ['Clicks', c.clicksHuman, c.clicks, 'clicks']].forEach(function (x) {
      var tr = body.appendChild(el('tr'));
      cell(tr, x[0]);
      cell(tr, num(x[1]), x[3] + '.human', 'num');
      cell(tr, num(x[2] - x[1]), x[3] + '.machine', 'num');
      cell(tr, num(x[2]), x[3] + '.total', 'num');
    });
  }

  function overTime(report) {
    var s = section('Opens and clicks over time (per hour, UTC)', true);
    var rows = report.hourly;
    if (!rows.length) { s.appendChild(el('p', { class: 'muted' }, 'No activity yet.')); return; }
    var series = [['opens', '#b8c4d6'], ['opensHuman', '#2f6fdf'], ['clicks', '#f2b880'], ['clicksHuman', '#d9731a']];
    var W = 760, H = 200, L = 44, B = 24;
    var max = Math.max.apply(null, rows.map(function (r) { return Math.max(r.opens, r.clicks); }).concat([1]));
    var g = svg('svg', { width: '100%', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'opens and clicks over time' });
    g.appendChild(svg('line', { x1: L, y1: H - B, x2: W, y2: H - B, class: 'axis' }));
    g.appendChild(svg('text', { x: 0, y: 12 }, num(max)));
    g.appendChild(svg('text', { x: 0, y: H - B }, '0'));
    var step = rows.length > 1 ? (W - L - 10) / (rows.length - 1) : 0;
    series.forEach(function (sr) {
      var pts = rows.map(function (r, i) { return (L + i * step).toFixed(1) + ',' + (H - B - (H - B - 10) * r[sr[0]] / max).toFixed(1); });
      var total = rows.reduce(function (a, r) { return a + r[sr[0]]; }, 0);
      g.appendChild(svg(rows.length > 1 ? 'polyline' : 'circle', rows.length > 1
        ? { points: pts.join(' '), fill: 'none', stroke: sr[1], 'stroke-width': 2, 'data-metric': 'hourly.' + sr[0], 'data-value': total }
        : { cx: L, cy: pts[0].split(',')[1], r: 4, fill: sr[1], 'data-metric': 'hourly.' + sr[0], 'data-value': total }));
    });
    g.appendChild(svg('text', { x: L, y: H - 6 }, rows[0].hour.slice(0, 13).replace('T', ' ') + 'h'));
    if (rows.length > 1) g.appendChild(svg('text', { x: W - 120, y: H - 6 }, rows[rows.length - 1].hour.slice(0, 13).replace('T', ' ') + 'h'));
    s.appendChild(g);
    var l = el('div', { class: 'legend' });
    series.forEach(function (sr) { var sp = el('span'); var sw = el('i', { class: 'swatch' }); sw.style.background = sr[1]; sp.appendChild(sw); sp.appendChild(document.createTextNode(sr[0])); l.appendChild(sp); });
    s.appendChild(l);
  }

  function interval(i) { return i ? pct(i.rate) + ' [' + pct(i.lower) + ' – ' + pct(i.upper) + ']' : '–'; }

  function variants(report) {
    var s = section('Variants', true);
    var body = table(s, ['variant', 'sent', 'delivered', 'human opens', 'open rate (human) [95% interval]', 'human clicks', 'click rate (human) [95% interval]']);
    report.variants.forEach(function (v) {
      var id = v.variantId === null ? 'all' : v.variantId, tr = body.appendChild(el('tr'));
      cell(tr, v.variantId === null ? '(no experiment)' : v.variantId);
      cell(tr, num(v.counts.sent), 'variant.' + id + '.sent', 'num');
      cell(tr, num(v.counts.delivered), 'variant.' + id + '.delivered', 'num');
      cell(tr, num(v.counts.uniqueHumanOpens), 'variant.' + id + '.uniqueHumanOpens', 'num');
      cell(tr, v.intervals ? interval(v.intervals.openHuman) : pct(v.rates.open.human), 'variant.' + id + '.openRate', 'num');
      cell(tr, num(v.counts.uniqueHumanClicks), 'variant.' + id + '.uniqueHumanClicks', 'num');
      cell(tr, v.intervals ? interval(v.intervals.clickHuman) : pct(v.rates.clickThrough.human), 'variant.' + id + '.clickRate', 'num');
    });
  }

  function links(report) {
    var s = section('Top links');
    if (!report.links.length) { s.appendChild(el('p', { class: 'muted' }, 'No clicks yet.')); return; }
    var body = table(s, ['link', 'clicks', 'human', 'unique human']);
    report.links.slice(0, 10).forEach(function (l, i) {
      var tr = body.appendChild(el('tr'));
      cell(tr, l.url, 'link.' + i + '.url', 'url').title = l.url;
      cell(tr, num(l.clicks), 'link.' + i + '.clicks', 'num');
      cell(tr, num(l.clicksHuman), 'link.' + i + '.clicksHuman', 'num');
      cell(tr, num(l.uniqueHumanClicks), 'link.' + i + '.uniqueHumanClicks', 'num');
    });
  }

  function breakdown(title, key, data) {
    var s = section(title);
    var entries = Object.keys(data).map(function (k) { return [k, data[k]]; }).sort(function (a, b) { return b[1].opens - a[1].opens; });
    if (!entries.length) { s.appendChild(el('p', { class: 'muted' }, 'No opens yet.')); return; }
    var body = table(s, [key, 'opens', 'human opens', 'clicks', 'human clicks']);
    entries.slice(0, 8).forEach(function (e) {
      var tr = body.appendChild(el('tr'));
      cell(tr, e[0]);
      cell(tr, num(e[1].opens), key + '.' + e[0] + '.opens', 'num');
      cell(tr, num(e[1].opensHuman), key + '.' + e[0] + '.opensHuman', 'num');
      cell(tr, num(e[1].clicks), key + '.' + e[0] + '.clicks', 'num');
      cell(tr, num(e[1].clicksHuman), key + '.' + e[0] + '.clicksHuman', 'num');
    });
  }

  function render(report) {
    document.getElementById('report').textContent = '';
    document.getElementById('title').textContent = 'Campaign ' + report.campaignId;
    funnel(report); rates(report); humanVsMachine(report); overTime(report); variants(report); links(report);
    breakdown('Mail clients', 'client', report.clients); breakdown('Devices', 'device', report.devices); breakdown('Operating systems', 'os', report.os);
    state.textContent = 'Updated ' + new Date().toLocaleTimeString();
    document.body.setAttribute('data-loaded', 'true');
  }

  function load(key) {
    state.textContent = 'Loading…';
    fetch('../campaigns/' + encodeURIComponent(campaignId) + '/report', { headers: { Authorization: 'Bearer ' + key } })
      .then(function (res) {
        if (res.status === 401) throw new Error('The workspace key was not accepted.');
        if (res.status === 404) throw new Error('No report for this campaign in your workspace (yet).');
        if (!res.ok) throw new Error('The tracker answered ' + res.status + '.');
        return res.json();
      })
      .then(render)
      .catch(function (err) { state.textContent = ''; state.appendChild(el('span', { class: 'error' }, err.message)); document.body.setAttribute('data-loaded', 'error'); });
  }

  var fromFragment = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromFragment) { sessionStorage.setItem('payam.key', fromFragment); history.replaceState(null, '', location.pathname + location.search); }
  var key = fromFragment || sessionStorage.getItem('payam.key');
  document.getElementById('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var k = document.getElementById('key').value.trim();
    if (k) { sessionStorage.setItem('payam.key', k); load(k); }
  });
  if (key) load(key); else state.textContent = 'Enter a workspace API key to see the report.';
})();
`;

export type ReportPage = SelfContainedPage;

export function reportPage(): ReportPage {
  return selfContainedPage({
    title: 'Campaign report',
    style: STYLE,
    script: SCRIPT,
    body: `<header>
<h1 id="title">Campaign report</h1>
<form id="key-form"><input id="key" type="password" placeholder="Workspace API key (pk_…)" autocomplete="off" aria-label="Workspace API key"> <button type="submit">Show</button></form>
<span id="state" class="muted"></span>
</header>
<main id="report"></main>`,
  });
}
