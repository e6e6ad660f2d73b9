// SPDX-License-Identifier: BSD-3-Clause
// edgeprobe dashboard: per-ISP latency from the collector's JSON API, refreshed
// on every closed window (server-sent events) and at least every 2 s.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { sort: 'samples', page: 0, asns: [], selected: null, windows: 0, lastEnd: 0, regs: new Map(), base: new Map(), alerts: [],
  qoe: null }; // qoe: the collector takes players' CMCD reports (null: not known yet)
const SPARK = 30;
const MAX_ROWS = 2000; // rows asked of the other lists
const PAGE = 500;      // ASN rows per page: the collector sorts, filters and pages (any number of ASNs)

function fmtMs(us) { return us ? (us / 1000).toFixed(1) : '–'; }
function fmtInt(n) { return n >= 1e6 ? (n / 1e6).toFixed(2) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : String(n); }
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }

// A collector started with --api-token-file: open the dashboard as /#token=...
const HASH = new URLSearchParams(location.hash.slice(1));
const TOKEN = HASH.get('token');
// The view in the URL (#range=..&metric=..&probe=..&country=..&sort=..&filter=..&min=..&asn=..),
// so that a link reopens it.
const VIEW = ['range', 'metric', 'probe', 'country', 'filter', 'min'];
function saveView() {
  const p = new URLSearchParams();
  if (TOKEN) p.set('token', TOKEN);
  for (const id of VIEW) if ($(id).value) p.set(id, $(id).value);
  if (state.sort !== 'samples') p.set('sort', state.sort);
  if (state.selected !== null) p.set('asn', state.selected);
  history.replaceState(null, '', '#' + p.toString());
}
function ensureOption(sel, value, text) {
  if (value && ![...sel.options].some((o) => o.value === value)) {
    const o = document.createElement('option');
    o.value = value; o.textContent = text || value; sel.appendChild(o);
  }
}
function loadView() {
  for (const id of VIEW) {
    const v = HASH.get(id);
    if (v === null) continue;
    if ($(id).tagName === 'SELECT') ensureOption($(id), v);
    $(id).value = v;
  }
  if (HASH.get('sort')) state.sort = HASH.get('sort');
}
function withToken(url) {
  return TOKEN ? url + (url.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(TOKEN) : url;
}

// At most one request of each kind in flight: a slow collector is not asked again meanwhile.
const inflight = new Set();
function once(name, fn) {
  return async (...args) => {
    if (inflight.has(name)) return;
    inflight.add(name);
    try { await fn(...args); } finally { inflight.delete(name); }
  };
}

function query(path, extra, allCountries) {
  const p = new URLSearchParams(extra || {});
  if (!p.has('range')) p.set('range', $('range').value);
  if ($('probe').value) p.set('probe', $('probe').value);
  if ($('country').value && !allCountries) p.set('country', $('country').value);
  return fetch(withToken(path + '?' + p.toString())).then((r) => r.json().then((j) => {
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }));
}

// Colour by the ISP's deviation from its own baseline (the hour before), not from other ISPs.
function severity(asn) {
  const g = state.base.get(asn);
  if (!g) return '';
  return g.p90_ratio >= 2 ? 'sev2' : g.p90_ratio >= 1.3 ? 'sev1' : '';
}

// The page of ASNs as the collector sorted and filtered it (q=: "AS174", "174" or part of a
// name; min_samples=), rendered as it is.
function render() {
  const metric = $('metric').value;
  const rows = state.asns;
  const maxN = Math.max(1, ...rows.map((a) => a[metric].n));
  const tb = document.querySelector('#asns tbody');
  tb.innerHTML = rows.map((a) => {
    const h = a[metric];
    const sev = severity(a.asn);
    const nobase = state.base.size && !state.base.has(a.asn) ? '<span class="nobase" title="no baseline yet: too few samples in the hour before">·</span>' : '';
    const retx = (100 * a.retx_rate).toFixed(2);
    return `<tr data-asn="${a.asn}" class="${a.asn === state.selected ? 'sel' : ''}">` +
      `<td>AS${a.asn}${state.regs.has(a.asn) ? '<span class="up" title="worse than its baseline">▲</span>' : ''}</td>` +
      `<td class="org" title="${esc(a.org)}">${esc(a.org || '—')}</td>` +
      `<td class="num">${fmtInt(a.flows_new)}</td>` +
      `<td class="num"><span class="bar" style="width:${Math.round(40 * h.n / maxN)}px"></span>${fmtInt(h.n)}</td>` +
      `<td class="num">${fmtMs(h.p50_us)}</td><td class="num ${sev}" title="${state.base.has(a.asn) ? 'baseline ' + fmtMs(state.base.get(a.asn).baseline_p90_us) + ' ms' : 'no baseline yet'}">${fmtMs(h.p90_us)}${nobase}</td>` +
      `<td class="num">${fmtMs(h.p99_us)}</td><td class="num">${fmtMs(h.max_us)}</td>` +
      `<td class="num ${a.retx_rate > 0.02 ? 'sev2' : a.retx_rate > 0.005 ? 'sev1' : ''}">${retx}</td>` +
      qoeCells(a) + `<td>${spark(a.spark)}</td></tr>`;
  }).join('');
  $('empty').hidden = rows.length > 0;
  document.querySelectorAll('th').forEach((th) => th.classList.toggle('sorted', th.dataset.sort === state.sort));
  const first = state.page * PAGE;
  $('page-info').textContent = state.totalAsns
    ? `${fmtInt(first + 1)}–${fmtInt(first + rows.length)} of ${fmtInt(state.totalAsns)} ISPs` : '–';
  $('prev').disabled = state.page === 0;
  $('next').disabled = first + rows.length >= state.totalAsns;
}

// Players' columns: rebuffer ratio (coloured from 1 % and 3 %) and sessions; '–' without reports.
function qoeCells(a) {
  if (state.qoe === false) return '';
  const q = a.qoe;
  if (!q) return '<td class="num qoe">–</td><td class="num qoe">–</td>';
  const r = q.rebuffer_ratio;
  const cls = r === null ? '' : r >= 0.03 ? 'sev2' : r >= 0.01 ? 'sev1' : '';
  return `<td class="num qoe ${cls}" title="${fmtInt(q.stalls)} stalls, ${(q.play_ms / 60000).toFixed(1)} min played">` +
    `${r === null ? '–' : (100 * r).toFixed(2)}</td><td class="num qoe">${fmtInt(q.sessions)}</td>`;
}

// RTT p90 (x, log) against rebuffer ratio (y) of the ISPs listed; point area ~ sessions.
function drawScatter() {
  const svg = $('scatter');
  if (!svg || state.qoe === false) return;
  const metric = $('metric').value;
  const pts = state.asns.filter((a) => a.qoe && a.qoe.rebuffer_ratio !== null && a[metric].p90_us);
  const W = 560, H = 230, L = 44, B = 24, T = 10, R = 12;
  if (!pts.length) {
    svg.innerHTML = `<text x="${L}" y="${H / 2}">no ISP listed has both RTT samples and players' reports</text>`;
    $('scatter-legend').textContent = '';
    return;
  }
  const xs = pts.map((a) => a[metric].p90_us / 1000), ys = pts.map((a) => 100 * a.qoe.rebuffer_ratio);
  const x0 = Math.log10(Math.max(0.1, Math.min(...xs) / 1.5)), x1 = Math.log10(Math.max(...xs) * 1.5);
  const ymax = Math.max(1, ...ys) * 1.15, smax = Math.max(1, ...pts.map((a) => a.qoe.sessions));
  const X = (v) => L + (W - L - R) * (Math.log10(Math.max(0.1, v)) - x0) / Math.max(0.01, x1 - x0);
  const Y = (v) => H - B - (H - B - T) * v / ymax;
  let g = '';
  for (let i = 0; i <= 4; i++) {
    const v = ymax * i / 4;
    g += `<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#26303b"/><text x="2" y="${Y(v) + 3}">${v.toFixed(1)}%</text>`;
  }
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const v = 10 ** e;
    g += `<line x1="${X(v)}" x2="${X(v)}" y1="${T}" y2="${H - B}" stroke="#26303b"/><text x="${X(v) - 8}" y="${H - 8}">${v >= 1 ? v : v.toFixed(1)} ms</text>`;
  }
  g += pts.map((a, i) => {
    const r = 3 + 9 * Math.sqrt(a.qoe.sessions / smax);
    return `<circle data-asn="${a.asn}" cx="${X(xs[i]).toFixed(1)}" cy="${Y(ys[i]).toFixed(1)}" r="${r.toFixed(1)}"` +
      ` class="${a.qoe.rebuffer_ratio >= 0.03 ? 'bad' : ''}"><title>AS${a.asn} ${esc(a.org || '')}: p90 ${xs[i].toFixed(1)} ms, ` +
      `rebuffering ${ys[i].toFixed(2)} %, ${a.qoe.sessions} sessions</title></circle>`;
  }).join('');
  svg.innerHTML = g;
  svg.querySelectorAll('circle').forEach((c) => c.addEventListener('click', () => detail(Number(c.dataset.asn), true)));
  $('scatter-legend').textContent = `${pts.length} ISPs` + (state.across ? ` · rank correlation across ISPs over the range: ` +
    `RTT p90 ${fmtRho(state.across.rho_rtt_p90)}, retransmissions ${fmtRho(state.across.rho_retx_rate)}` : '');
}

function fmtRho(v) { return v === null || v === undefined ? '–' : v.toFixed(2); }

// Rank correlations across ISPs for the legend (/api/v1/correlation), at most one in flight.
const refreshCorrelation = once('refreshCorrelation', async () => {
  const range = $('range').value;
  const step = { '10s': '1s', '1m': '1s', '5m': '10s', '15m': '30s', '1h': '1m', '1d': '30m', '7d': '6h', '30d': '1d' }[range] || '1m';
  try {
    const j = await query('/api/v1/correlation', { range, step });
    state.across = j.across;
  } catch (e) { state.across = null; }
  drawScatter();
});

// An inline SVG polyline of the p90 per slot (gaps where a slot has no samples).
function spark(vals) {
  if (!vals || !vals.some((v) => v !== null)) return '';
  const W = 90, H = 18, max = Math.max(...vals.filter((v) => v !== null)) || 1;
  const min = Math.min(...vals.filter((v) => v !== null));
  const span = Math.max(max - min, max * 0.05);
  let d = '', dots = '', pen = false;
  vals.forEach((v, i) => {
    if (v === null) { pen = false; return; }
    const x = (W * i / (vals.length - 1)).toFixed(1), y = (H - 2 - (H - 4) * (v - min) / span).toFixed(1);
    const alone = (i === 0 || vals[i - 1] === null) && (i === vals.length - 1 || vals[i + 1] === null);
    if (alone) dots += `<circle cx="${x}" cy="${y}" r="1.6" fill="#4fb3ff"/>`;
    d += (pen ? 'L' : 'M') + x + ' ' + y;
    pen = true;
  });
  return `<svg class="spark" width="${W}" height="${H}"><path d="${d}" fill="none" stroke="#4fb3ff" stroke-width="1.3"/>${dots}</svg>`;
}

function summarize() {
  const metric = $('metric').value;
  let n = 0;
  // The sample-weighted median of the listed ISPs' p90s (not a merged histogram).
  const pts = [];
  for (const a of state.asns) {
    n += a[metric].n;
    if (a[metric].n) pts.push([a[metric].p90_us, a[metric].n]);
  }
  pts.sort((x, y) => x[0] - y[0]);
  let acc = 0, p90 = 0;
  for (const [v, w] of pts) { acc += w; if (acc >= 0.5 * n) { p90 = v; break; } }
  state.allP90 = p90;
  $('t-asns').textContent = fmtInt(state.totalAsns || 0);
  $('t-p90').textContent = p90 ? fmtMs(p90) + ' ms' : '–';
}

// Samples and retransmissions over every ISP: the countries' totals (every entry is in one).
function summarizeAll(countries, metric) {
  let n = 0, segs = 0, retx = 0;
  for (const c of countries) { n += c[metric].n; segs += c.segs_out; retx += c.retx_out; }
  $('t-samples').textContent = fmtInt(n);
  $('t-retx').textContent = segs ? (100 * retx / segs).toFixed(2) + ' %' : '–';
}

async function refresh() {
  if (state.busy) return; // one refresh in flight at a time
  state.busy = true;
  try {
    // One page of ASNs, sorted and filtered by the collector (the total comes with it).
    const args = { metric: $('metric').value, sort: state.sort, spark: SPARK, limit: PAGE, cursor: state.page * PAGE };
    const f = $('filter').value.trim(), min = Number($('min').value) || 0;
    if (f) args.q = f;
    if (min) args.min_samples = min;
    args.with = 'qoe';
    const j = await query('/api/v1/asns', args);
    // A collector without players' reports (no --qoe): no QoE columns or panels.
    state.qoe = !!j.qoe_enabled;
    document.body.classList.toggle('noqoe', !state.qoe);
    state.asns = j.asns;
    state.totalAsns = j.total;
    if (!j.asns.length && state.page > 0 && j.total) { state.page = 0; state.busy = false; return refresh(); }
    summarize();
    render();
    const res = j.resolution_ns >= 6e10 ? '1 min' : j.resolution_ns >= 1e9 ? '1 s' : j.resolution_ns ? '100 ms' : '–';
    $('status').textContent = `data up to ${j.end_ns ? new Date(j.end_ns / 1e6).toISOString().replace('T', ' ').slice(0, 23) : '–'} UTC · resolution ${res}`;
    if (state.selected !== null) detail(state.selected, false);
    refreshProbes();
    refreshRegressions();
    refreshAlerts();
    refreshCountries();
    if (state.qoe) { drawScatter(); refreshCorrelation(); }
  } catch (e) {
    $('status').textContent = 'error: ' + e.message;
  } finally {
    state.busy = false;
  }
}

const refreshRegressions = once('refreshRegressions', async () => {
  try {
    const j = await query('/api/v1/regressions', { range: $('range').value, baseline: '1h', limit: MAX_ROWS, metric: $('metric').value });
    state.base = new Map(j.regressions.map((g) => [g.asn, g]));
    state.regs = new Map(j.regressions.filter((g) => g.score >= 1.5).map((g) => [g.asn, g]));
    const rows = [...state.regs.values()].slice(0, 8);
    document.querySelector('#regs tbody').innerHTML = rows.map((g) =>
      `<tr data-asn="${g.asn}"><td>AS${g.asn}</td><td class="org">${esc(g.org)}</td><td class="num sev2">${g.score.toFixed(2)}</td>` +
      `<td class="num">${fmtMs(g.p90_us)}</td><td class="num">${fmtMs(g.baseline_p90_us)}</td>` +
      `<td class="num">${(100 * g.retx_rate).toFixed(2)}</td><td class="num">${(100 * g.baseline_retx_rate).toFixed(2)}</td></tr>`).join('');
    $('regs-empty').hidden = rows.length > 0;
    // "No baseline yet" is not "nothing wrong".
    $('regs-empty').textContent = j.regressions.length
      ? `No ISP is worse than its baseline (${j.regressions.length} compared with the hour before).`
      : 'No baseline yet: no ISP has enough samples in the hour before this range.';
    render();
  } catch (e) { /* shown by refresh() */ }
});

// The world map: country outlines (world-atlas, Natural Earth 1:110m) drawn once with
// d3-geo, their fills updated from /api/v1/countries on every refresh.  No tiles.
const NODATA = '#1e2630';
const map = { features: null, paths: new Map() };
async function loadMap() {
  const svg = $('map');
  if (typeof d3 === 'undefined' || typeof topojson === 'undefined') {
    svg.innerHTML = '<text x="10" y="20" fill="#8a96a3">map unavailable (scripts/web-vendor)</text>';
    return;
  }
  const t = await fetch('vendor/countries-110m.json').then((r) => r.json());
  map.features = topojson.feature(t, t.objects.countries).features;
  const proj = d3.geoNaturalEarth1().fitSize([560, 290], { type: 'Sphere' });
  const path = d3.geoPath(proj);
  svg.innerHTML = `<path d="${path({ type: 'Sphere' })}" fill="#10161d" stroke="#26303b"/>` +
    map.features.map((f) => `<path data-numeric="${f.id === undefined ? '' : Number(f.id)}" d="${path(f)}" ` +
      `fill="${NODATA}" stroke="#2c3845" stroke-width="0.4"><title>${esc(f.properties.name)}</title></path>`).join('');
  for (const el of svg.querySelectorAll('path[data-numeric]')) if (el.dataset.numeric) map.paths.set(Number(el.dataset.numeric), el);
}

// Green (fast) -> amber -> red (slow) on a log scale between the fastest and slowest country.
function heat(v, lo, hi) {
  const t = hi > lo ? Math.log(v / lo) / Math.log(hi / lo) : 0;
  const stops = [[62, 207, 142], [245, 184, 74], [255, 92, 92]];
  const k = Math.min(1, Math.max(0, t)) * 2, i = Math.min(1, Math.floor(k)), f = k - i;
  const c = stops[i].map((x, j) => Math.round(x + (stops[i + 1][j] - x) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function drawMap(countries, metric) {
  if (!map.features) return;
  const have = countries.filter((c) => c.numeric && c[metric].n && c[metric].p90_us);
  const vals = have.map((c) => c[metric].p90_us);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const seen = new Set();
  for (const c of have) {
    const el = map.paths.get(Number(c.numeric));
    if (!el) continue;
    seen.add(el);
    el.setAttribute('fill', heat(c[metric].p90_us, lo, hi));
    el.dataset.country = c.country;
    el.querySelector('title').textContent = `${c.country} ${c.name}: p90 ${fmtMs(c[metric].p90_us)} ms, ${fmtInt(c[metric].n)} samples`;
    el.classList.toggle('sel', c.country === $('country').value);
  }
  for (const el of map.paths.values()) {
    if (seen.has(el)) continue;
    el.setAttribute('fill', NODATA);
    delete el.dataset.country;
    el.classList.remove('sel');
  }
  $('map-legend').innerHTML = have.length
    ? `p90 per country: <span style="color:${heat(lo, lo, hi)}">■</span> ${fmtMs(lo)} ms … <span style="color:${heat(hi, lo, hi)}">■</span> ${fmtMs(hi)} ms · <span style="color:#2c3845">■</span> no data`
    : 'no country data yet (the probes need the country files of the ASN data)';
}

// Per country (all countries, whatever the country selected): the panel and the selector.
const refreshCountries = once('refreshCountries', async () => {
  try {
    const metric = $('metric').value;
    const j = await query('/api/v1/countries', { metric, sort: 'samples', limit: 300 }, true);
    const sel = $('country');
    for (const c of j.countries) if (c.country) ensureOption(sel, c.country, `${c.country} ${c.name}`);
    for (const o of sel.options) {
      const c = j.countries.find((x) => x.country === o.value);
      if (c) o.textContent = `${c.country} ${c.name}`;
    }
    drawMap(j.countries, metric);
    if (!$('country').value) summarizeAll(j.countries, metric);
    document.querySelector('#countries tbody').innerHTML = j.countries.map((c) => {
      const h = c[metric];
      return `<tr data-country="${esc(c.country || '')}" class="${c.country && c.country === sel.value ? 'sel' : ''}">` +
        `<td>${c.country ? esc(c.country + ' ' + c.name) : '<span class="dim">unknown</span>'}</td>` +
        `<td>${esc(c.region || '–')}</td><td class="num">${fmtInt(h.n)}</td>` +
        `<td class="num">${fmtMs(h.p50_us)}</td><td class="num">${fmtMs(h.p90_us)}</td><td class="num">${fmtMs(h.p99_us)}</td>` +
        `<td class="num">${(100 * c.retx_rate).toFixed(2)}</td></tr>`;
    }).join('');
  } catch (e) { /* shown by refresh() */ }
});

function fmtValue(a, v) {
  if (v === null || v === undefined) return '–';
  return a.unit === 'us' ? fmtMs(v) + ' ms' : a.unit === 'ratio' ? (100 * v).toFixed(2) + ' %' : v.toFixed(1) + (a.unit === 's' ? ' s' : '/s');
}

// The alert engine's firing and pending alerts, as a strip at the top of the page.
const refreshAlerts = once('refreshAlerts', async () => {
  try {
    const j = await fetch(withToken('/api/v1/alerts?state=all&limit=50')).then((r) => r.json());
    const live = j.alerts.filter((a) => a.state === 'firing' || a.state === 'pending');
    live.sort((x, y) => (x.state === y.state ? 0 : x.state === 'firing' ? -1 : 1) || x.since_ns - y.since_ns);
    $('alerting').classList.toggle('on', live.some((a) => a.state === 'firing'));
    $('alerting-list').innerHTML = !j.enabled
      ? '<span class="dim">alerting is off (no --alert-rules)</span>'
      : live.length === 0 ? '<span class="dim">nothing firing</span>'
      : live.map((a) => `<span class="chip ${a.state}" data-asn="${a.asn || ''}" title="${esc(a.id)}: ${a.state} since ${new Date(a.since_ns / 1e6).toISOString().slice(11, 19)} UTC, ${a.samples} samples">` +
          `<b>${a.asn ? 'AS' + a.asn : esc(a.probe || '')}</b> ${esc(a.rule)} ${fmtValue(a, a.value)}` +
          (a.baseline !== null && a.baseline !== undefined ? ` (baseline ${fmtValue(a, a.baseline)})` : '') + `</span>`).join('');
  } catch (e) { /* shown by refresh() */ }
});

function ago(s) { return s < 1 ? 'now' : s < 90 ? s.toFixed(0) + ' s ago' : (s / 60).toFixed(0) + ' min ago'; }

const refreshProbes = once('refreshProbes', async () => {
  try {
    const j = await fetch(withToken('/api/v1/probes?limit=200')).then((r) => r.json());
    const live = j.probes.filter((p) => p.age_s < 10).length;
    $('t-probes').textContent = `${live} / ${j.probes.length}`;
    document.querySelector('#probes tbody').innerHTML = j.probes.map((p) =>
      `<tr><td>${esc(p.id)}</td><td class="num ${p.age_s > 10 ? 'sev2' : ''}">${ago(p.age_s)}</td>` +
      `<td class="num">${fmtInt(p.msgs)}</td><td class="num ${p.lost ? 'sev1' : ''}">${p.lost}</td>` +
      `<td class="num">${p.duplicates}</td><td class="num">${p.restarts}</td>` +
      `<td class="num ${p.windows_dropped ? 'sev1' : ''}">${p.windows_dropped}</td></tr>`).join('');
    const sel = $('probe');
    const have = new Set([...sel.options].map((o) => o.value));
    for (const p of j.probes) {
      if (!have.has(p.id) && p.view) {
        const o = document.createElement('option');
        o.value = p.id; o.textContent = p.id; sel.appendChild(o);
      }
    }
  } catch (e) { /* shown by refresh() */ }
});

function chart(canvas, series, opts) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 48, B = 18, T = 8, R = 8;
  ctx.clearRect(0, 0, W, H);
  const xs = series[0].points.map((p) => p[0]);
  const vals = series.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v !== null));
  ctx.fillStyle = '#8a96a3'; ctx.font = '11px system-ui';
  if (!xs.length || !vals.length) { ctx.fillText('no samples in this range', L, H / 2); return; }
  const x0 = xs[0], x1 = xs[xs.length - 1] || x0 + 1;
  const ymax = Math.max(...vals) * 1.1 || 1;
  const X = (x) => L + (W - L - R) * (x - x0) / Math.max(1, x1 - x0);
  const Y = (y) => H - B - (H - B - T) * y / ymax;
  ctx.strokeStyle = '#26303b'; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = ymax * i / 4;
    ctx.beginPath(); ctx.moveTo(L, Y(y)); ctx.lineTo(W - R, Y(y)); ctx.stroke();
    ctx.fillText(opts.fmt(y), 2, Y(y) + 4);
  }
  const t0 = new Date(x0 / 1e6), t1 = new Date(x1 / 1e6);
  ctx.fillText(t0.toISOString().slice(11, 19), L, H - 4);
  ctx.fillText(t1.toISOString().slice(11, 19), W - R - 48, H - 4);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.6; ctx.beginPath();
    let pen = false;
    for (const [x, v] of s.points) {
      if (v === null) { pen = false; continue; }
      if (pen) ctx.lineTo(X(x), Y(v)); else ctx.moveTo(X(x), Y(v));
      pen = true;
    }
    ctx.stroke();
    ctx.fillStyle = s.color;
    for (const [x, v] of s.points) {
      if (v !== null) { ctx.beginPath(); ctx.arc(X(x), Y(v), 2.2, 0, 2 * Math.PI); ctx.fill(); }
    }
  }
}

// Samples per latency band (rows, log-spaced) and time (columns); darker = fewer.
function heatmap(canvas, j) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 48, B = 18, T = 4, R = 8;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#8a96a3'; ctx.font = '11px system-ui';
  const cols = j.columns, nb = j.bounds_us.length;
  // Only the bands that have samples somewhere, plus one either side.
  let lo = nb, hi = -1;
  cols.forEach((c) => c.slice(1).forEach((n, b) => { if (n) { lo = Math.min(lo, b); hi = Math.max(hi, b); } }));
  if (hi < 0) { ctx.fillText('no samples in this range', L, H / 2); return; }
  lo = Math.max(0, lo - 1); hi = Math.min(nb - 1, hi + 1);
  const rows = hi - lo + 1, cw = (W - L - R) / cols.length, rh = (H - B - T) / rows;
  const max = Math.max(...cols.flatMap((c) => c.slice(1 + lo, 2 + hi)));
  cols.forEach((c, x) => {
    for (let b = lo; b <= hi; b++) {
      const n = c[1 + b];
      if (!n) continue;
      const a = 0.15 + 0.85 * Math.log1p(n) / Math.log1p(max);
      ctx.fillStyle = `rgba(245,184,74,${a.toFixed(3)})`;
      ctx.fillRect(L + x * cw, H - B - (b - lo + 1) * rh, Math.max(1, cw - 0.5), Math.max(1, rh - 0.5));
    }
  });
  // bounds_us are upper bounds: each label sits on its band's top edge (the last band is open).
  ctx.fillStyle = '#8a96a3'; ctx.strokeStyle = '#8a96a3'; ctx.textBaseline = 'middle';
  for (let b = lo; b <= hi && b < nb - 1; b += Math.max(1, Math.ceil(rows / 6))) {
    const y = H - B - (b - lo + 1) * rh;
    ctx.beginPath(); ctx.moveTo(L - 4, y); ctx.lineTo(L, y); ctx.stroke();
    ctx.fillText(fmtMs(j.bounds_us[b]) + ' ms', 2, Math.max(6, y));
  }
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(new Date(cols[0][0] / 1e6).toISOString().slice(11, 19), L, H - 4);
  ctx.fillText(new Date(cols[cols.length - 1][0] / 1e6).toISOString().slice(11, 19), W - R - 48, H - 4);
}

function stepFor(range) {
  const s = { '10s': '100ms', '1m': '1s', '5m': '1s', '15m': '10s', '1h': '1m', '1d': '10m', '7d': '1h', '30d': '6h' }[range];
  return s || '1s';
}

async function detail(asn, fresh) {
  state.selected = asn;
  saveView();
  const metric = $('metric').value, range = $('range').value, step = stepFor(range);
  $('detail').hidden = false;
  document.querySelectorAll('tbody tr').forEach((tr) => tr.classList.toggle('sel', Number(tr.dataset.asn) === asn));
  if (fresh) { $('d-title').textContent = 'AS' + asn; $('d-org').textContent = ''; }
  try {
    const heatStep = { '10s': '500ms', '1m': '2s', '5m': '10s', '15m': '30s', '1h': '2m', '1d': '1h', '7d': '6h', '30d': '1d' }[range] || '10s';
    const [h, s50, s90, s99, rx, hm] = await Promise.all([
      query(`/api/v1/asns/${asn}/histogram`),
      query(`/api/v1/asns/${asn}/series`, { metric, q: 0.5, step }),
      query(`/api/v1/asns/${asn}/series`, { metric, q: 0.9, step }),
      query(`/api/v1/asns/${asn}/series`, { metric, q: 0.99, step }),
      query(`/api/v1/asns/${asn}/series`, { metric: 'retx_rate', step }),
      query(`/api/v1/asns/${asn}/heatmap`, { metric, step: heatStep }),
    ]);
    if (state.selected !== asn) return;
    const a = h.asn, m = a[metric];
    $('d-title').textContent = 'AS' + asn;
    $('d-org').textContent = `${a.org || 'unknown organisation'} · ${fmtInt(a.flows_new)} flows · ${fmtInt(m.n)} ${metric === 'rtt_hs' ? 'handshake' : 'in-flow'} samples`;
    $('d-ladder').innerHTML = [['min', m.min_us], ['p50', m.p50_us], ['p90', m.p90_us], ['p99', m.p99_us], ['max', m.max_us]]
      .map(([k, v]) => `<div><b>${fmtMs(v)}</b><span>${k} ms</span></div>`).join('') +
      `<div><b>${(100 * a.retx_rate).toFixed(2)}</b><span>retx %</span></div>`;
    chart($('c-rtt'), [
      { points: s50.points, color: '#3ecf8e' }, { points: s90.points, color: '#f5b84a' }, { points: s99.points, color: '#ff5c5c' },
    ].map((s) => ({ ...s, points: s.points.map((p) => [p[0], p[1] === null ? null : p[1] / 1000]) })), { fmt: (v) => v.toFixed(v < 10 ? 1 : 0) + ' ms' });
    heatmap($('c-heat'), hm);
    chart($('c-retx'), [{ points: rx.points.map((p) => [p[0], p[1] === null ? null : 100 * p[1]]), color: '#4fb3ff' }], { fmt: (v) => v.toFixed(2) + '%' });
    $('d-hdr').textContent = m.hdr ? 'HDR histogram: ' + m.hdr : '';
    if (state.qoe) detailQoe(asn, metric);
  } catch (e) {
    $('d-org').textContent = 'error: ' + e.message;
  }
}

// The ISP's rebuffering (left axis, %) and in-flow p90 (right axis, ms) on one time axis,
// and the collector's verdict on it (/api/v1/asns/N/explain over the same range).
async function detailQoe(asn, metric) {
  const range = $('range').value;
  // Coarser steps than the RTT charts: a second of a few players' viewing is mostly noise.
  const step = { '10s': '1s', '1m': '5s', '5m': '15s', '15m': '30s', '1h': '2m', '1d': '30m', '7d': '6h', '30d': '1d' }[range] || '1m';
  const [rb, s90, ex] = await Promise.all([
    query(`/api/v1/asns/${asn}/series`, { metric: 'rebuffer_ratio', step }),
    query(`/api/v1/asns/${asn}/series`, { metric, q: 0.9, step }),
    query(`/api/v1/asns/${asn}/explain`, { range, baseline: '1h' }).catch((e) => ({ summary: e.message })),
  ]);
  if (state.selected !== asn) return;
  chart2($('c-qoe'), rb.points.map((p) => [p[0], p[1] === null ? null : 100 * p[1]]),
    s90.points.map((p) => [p[0], p[1] === null ? null : p[1] / 1000]));
  $('d-explain').innerHTML = ex.verdict ? `<b>${esc(ex.verdict.replace('_', ' '))}</b>: ${esc(ex.summary)}` : esc(ex.summary || '');
}

function chart2(canvas, left, right) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height, L = 48, B = 18, T = 8, R = 48;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#8a96a3'; ctx.font = '11px system-ui';
  const lv = left.map((p) => p[1]).filter((v) => v !== null), rv = right.map((p) => p[1]).filter((v) => v !== null);
  const xs = left.concat(right).map((p) => p[0]);
  if (!lv.length && !rv.length) { ctx.fillText('no players\' reports or samples in this range', L, H / 2); return; }
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const lmax = Math.max(1, ...lv) * 1.1, rmax = Math.max(1, ...rv) * 1.1;
  const X = (x) => L + (W - L - R) * (x - x0) / Math.max(1, x1 - x0);
  ctx.strokeStyle = '#26303b'; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = H - B - (H - B - T) * i / 4;
    ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(W - R, y); ctx.stroke();
    ctx.fillText((lmax * i / 4).toFixed(1) + '%', 2, y + 4);
    ctx.fillText((rmax * i / 4).toFixed(0) + ' ms', W - R + 4, y + 4);
  }
  ctx.fillText(new Date(x0 / 1e6).toISOString().slice(11, 19), L, H - 4);
  ctx.fillText(new Date(x1 / 1e6).toISOString().slice(11, 19), W - R - 48, H - 4);
  for (const [pts, max, color] of [[left, lmax, '#4fb3ff'], [right, rmax, '#f5b84a']]) {
    const Y = (v) => H - B - (H - B - T) * v / max;
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 1.6; ctx.beginPath();
    let pen = false;
    for (const [x, v] of pts) {
      if (v === null) { pen = false; continue; }
      if (pen) ctx.lineTo(X(x), Y(v)); else ctx.moveTo(X(x), Y(v));
      pen = true;
    }
    ctx.stroke();
    for (const [x, v] of pts) if (v !== null) { ctx.beginPath(); ctx.arc(X(x), Y(v), 2, 0, 2 * Math.PI); ctx.fill(); }
  }
}

function connectStream() {
  // Ticks, not whole windows: a window of 10,000 ASNs is megabytes the page does not need.
  const es = new EventSource(withToken('/api/v1/stream?events=tick,alert'));
  es.addEventListener('tick', (ev) => {
    const w = JSON.parse(ev.data);
    state.windows++;
    state.lastEnd = w.end_ns;
    $('t-live').textContent = new Date(w.end_ns / 1e6).toISOString().slice(11, 19);
    refresh();
  });
  es.addEventListener('alert', refreshAlerts);
  es.onerror = () => { $('t-live').textContent = 'reconnecting'; };
}

document.querySelectorAll('#asns th').forEach((th) => th.addEventListener('click', () => {
  state.sort = th.dataset.sort; state.page = 0; saveView(); refresh();
}));
$('prev').addEventListener('click', () => { if (state.page > 0) { state.page--; refresh(); } });
$('next').addEventListener('click', () => { state.page++; refresh(); });
for (const t of ['#asns tbody', '#regs tbody']) {
  document.querySelector(t).addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr) detail(Number(tr.dataset.asn), true);
  });
}
$('alerting-list').addEventListener('click', (ev) => {
  const c = ev.target.closest('.chip');
  if (c && c.dataset.asn) detail(Number(c.dataset.asn), true);
});
$('close').addEventListener('click', () => { state.selected = null; $('detail').hidden = true; saveView(); render(); });
for (const id of ['range', 'metric', 'probe', 'country']) $(id).addEventListener('change', () => { state.page = 0; saveView(); refresh(); });
// The filter and the minimum go to the collector, a quarter of a second after typing stops.
let typing = null;
for (const id of ['filter', 'min']) $(id).addEventListener('input', () => {
  saveView();
  clearTimeout(typing);
  typing = setTimeout(() => { state.page = 0; refresh(); }, 250);
});
for (const t of ['#countries tbody', '#map']) {
  document.querySelector(t).addEventListener('click', (ev) => {
    const el = ev.target.closest('[data-country]');
    if (!el || !el.dataset.country) return;
    ensureOption($('country'), el.dataset.country);
    $('country').value = $('country').value === el.dataset.country ? '' : el.dataset.country;
    state.page = 0;
    saveView();
    refresh();
  });
}

loadView();
loadMap().catch(() => {}).then(refresh);
refreshProbes();
connectStream();
// An alert's link (or a shared view): #asn=N opens that ISP.
{
  const asn = Number(HASH.get('asn'));
  if (asn > 0) detail(asn, true);
}
setInterval(refresh, 1000);
setInterval(refreshProbes, 5000);
