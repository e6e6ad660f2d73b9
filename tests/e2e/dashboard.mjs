// SPDX-License-Identifier: BSD-3-Clause
// The dashboard in a real headless Chromium (Debian's chromium, driven by
// playwright-core): it loads without console errors, shows the scenario's ASNs
// with the ground-truth percentiles, updates live when more data arrives, and a
// click opens the ASN's detail with drawn charts.  Saves a screenshot.
//
// Then 10,000 more ASNs arrive from a simulated probe: the table pages through them (the
// collector sorts, filters and pages), the filter finds any of them, the page stays responsive.
//
// Last, players: a collector with --qoe gets five ISPs' RTT (gen-traffic, one degraded in
// the last minute) and CMCD sessions (gen-qoe, that ISP's players stalling then): the QoE
// columns equal the API's numbers, the scatter has a point per ISP, and the ISP's detail
// draws its rebuffering beside its p90 with the collector's verdict.
//
// usage: node dashboard.mjs COLLECTOR PCAP_PROBE GEN OUTDIR WEB_DIR LOADGEN GEN_TRAFFIC GEN_QOE
//        ASN_CSV
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [collector, pcapProbe, gen, out, webDir, loadgen, genTraffic, genQoe, asnCsv] =
  process.argv.slice(2);
let chromium;
try {
  ({ chromium } = require(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/playwright-core')));
} catch (e) {
  console.log('SKIP: playwright-core is not installed (scripts/setup installs it)');
  process.exit(77);
}
const fails = [];
const fail = (m) => { fails.push(m); console.log('FAIL:', m); };
const ok = (m) => console.log('ok:', m);


// HdrHistogram percentile of the true samples (lowest 1, 2 digits).
function he(v) {
  const bucket = Math.max(0, Math.floor(Math.log2(v | 255)) - 7);
  return ((v >> bucket) << bucket) + (1 << bucket) - 1;
}
function pct(samples, p) {
  const s = [...samples].sort((a, b) => a - b);
  return he(s[Math.max(1, Math.ceil(p / 100 * s.length)) - 1]);
}
const ms = (us) => (us / 1000).toFixed(1);
const fmt = ms;

mkdirSync(out, { recursive: true });
spawnSync(gen, [out], { stdio: 'ignore' });
const truth = {};
for (const n of ['mixed', 'dense']) truth[n] = JSON.parse(readFileSync(path.join(out, n + '.truth.json')));

// The collector chooses its ports (port 0) and reports them: no race for a port picked here.
const portsFile = path.join(out, 'collector.ports');
rmSync(portsFile, { force: true });
// One alert rule that every busy ASN breaks: the "alerting now" strip has something to show.
const rulesFile = path.join(out, 'alerts.ini');
writeFileSync(rulesFile, '[any_rtt]\nmetric = rtt_data:p50\nover = 2s\nabove = 1us\nmin_samples = 5\n' +
  'pending = 0\nresolve = 3600\n');
const coll = spawn(collector, ['--listen', 'udp://127.0.0.1:0', '--http', '127.0.0.1:0',
  '--ports-file', portsFile, '--web-dir', webDir, '--grace-ms', '200', '--alert-rules', rulesFile,
  // The page is reloaded twice: each load's event stream counts until the server sees it close.
  '--sse-max-per-addr', '8', '--quiet'], { stdio: 'inherit' });
const sleep = (t) => new Promise((r) => setTimeout(r, t));
for (let i = 0; i < 200 && !existsSync(portsFile); i++) await sleep(50);
const ports = JSON.parse(readFileSync(portsFile));
const udp = ports.listen[0];
const http = ports.http;
const base = `http://127.0.0.1:${http}`;
function replay(name, id, withCountries) {
  const t = truth[name];
  const db = withCountries ? t.asn_file + ',' + t.country_file : t.asn_file;
  const r = spawnSync(pcapProbe, ['--read', path.join(out, name + '.pcap'), '--asn-db', db,
    '--local-net', t.local_net, '--probe-id', id, '--collector', `udp://127.0.0.1:${udp}`, '--quiet']);
  if (r.status !== 0) fail(`replay ${name}: exit ${r.status} ${r.stderr}`);
}

// Five ISPs' RTT and their players' CMCD reports in one collector (--qoe), on the page.
async function players(browser) {
  const dir = path.join(out, 'players');
  mkdirSync(path.join(dir, 'asn'), { recursive: true });
  const rows = readFileSync(asnCsv, 'utf8').split('\n').filter((r) => r && !r.includes(',64599,'));
  writeFileSync(path.join(dir, 'asn', 'asn-ipv4.csv'), rows.filter((r) => !r.includes(':')).join('\n') + '\n');
  writeFileSync(path.join(dir, 'asn', 'asn-ipv6.csv'), rows.filter((r) => r.includes(':')).join('\n') + '\n');
  const clients = path.join(dir, 'clients.csv');
  writeFileSync(clients, rows.join('\n') + '\n');
  const t0 = Math.floor(Date.now() / 60000) * 60 - 600;
  const truthFile = path.join(dir, 'truth.json');
  let r = spawnSync('python3', [genTraffic, path.join(dir, 'p.pcap'), '--asn-dir', path.join(dir, 'asn'),
    '--asns', '6', '--flows', '10000', '--segs', '20', '--seconds', '300', '--t0', String(t0),
    '--degrade', '1:240:60:80:0.03', '--truth', truthFile]);
  if (r.status !== 0) { fail(`gen-traffic: ${r.stderr}`); return; }
  const bad = JSON.parse(readFileSync(truthFile)).find((i) => i.rank === 1).asn;
  const pf = path.join(dir, 'ports');
  rmSync(pf, { force: true });
  const c2 = spawn(collector, ['--listen', 'udp://127.0.0.1:0', '--http', '127.0.0.1:0', '--ports-file', pf,
    '--web-dir', webDir, '--qoe', '--qoe-asn-db', clients, '--qoe-trusted-proxy', '127.0.0.1',
    '--qoe-rate', '0', '--alert-rules', 'none', '--quiet'], { stdio: 'inherit' });
  try {
    for (let i = 0; i < 200 && !existsSync(pf); i++) await sleep(50);
    const p2 = JSON.parse(readFileSync(pf));
    const b2 = `http://127.0.0.1:${p2.http}`;
    r = spawnSync(pcapProbe, ['--read', path.join(dir, 'p.pcap'), '--asn-db', clients, '--local-net',
      '192.0.2.0/25,2001:db8:ff::/48', '--collector', `udp://127.0.0.1:${p2.listen[0]}`, '--quiet']);
    if (r.status !== 0) { fail(`players: replay exit ${r.status}`); return; }
    r = spawnSync('python3', [genQoe, '--url', b2 + '/api/v1/qoe', '--clients', clients, '--sessions', '600',
      '--seconds', '300', '--start', String(t0), '--degrade', `${bad}:240:60`, '--seed', '9']);
    if (r.status !== 0) { fail(`gen-qoe: ${r.stdout} ${r.stderr}`); return; }
    const api = await (await fetch(b2 + '/api/v1/asns?with=qoe&range=1m&limit=500')).json();
    const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(b2 + '/#range=1m');
    await page.waitForFunction(() => document.querySelectorAll('#scatter circle').length > 0, null, { timeout: 10000 });
    const cells = await page.$$eval('#asns tbody tr', (trs) => trs.map((tr) =>
      [tr.dataset.asn, ...[...tr.querySelectorAll('td.qoe')].map((td) => td.textContent)]));
    let badCells = 0;
    for (const a of api.asns) {
      const row = cells.find((x) => x[0] === String(a.asn));
      const want = a.qoe && a.qoe.rebuffer_ratio !== null ? (100 * a.qoe.rebuffer_ratio).toFixed(2) : '–';
      if (!row || row[1] !== want) { fail(`players: AS${a.asn} rebuf cell ${row && row[1]}, API ${want}`); badCells++; }
    }
    const both = api.asns.filter((a) => a.qoe && a.qoe.rebuffer_ratio !== null && a.rtt_data.p90_us).length;
    const dots = await page.$$eval('#scatter circle', (cs) => cs.length);
    if (!badCells && dots === both && both >= 5) ok(`players: ${cells.length} rows with the API's rebuffer ratios, ${dots} ISPs in the scatter`);
    else if (!badCells) fail(`players: ${dots} points in the scatter, ${both} ISPs with both`);
    await page.click(`#asns tbody tr[data-asn="${bad}"]`);
    await page.waitForFunction(() => /network/.test(document.getElementById('d-explain').textContent), null, { timeout: 10000 }).catch(() => {});
    const explain = await page.textContent('#d-explain');
    const blue = await page.$eval('#c-qoe', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 200 && d[i] < 120) n++; // the rebuffering line
      return n;
    });
    if (!/^network: /.test(explain) || blue < 20) fail(`players: AS${bad} detail: '${explain}', ${blue} rebuffering pixels`);
    else ok(`players: AS${bad} detail draws its rebuffering (${blue} px) and says '${explain.slice(0, 90)}…'`);
    if (errors.length) fail(`players: console errors ${errors.slice(0, 3).join(' | ')}`);
    await page.screenshot({ path: path.join(out, 'dashboard-players.png'), fullPage: true });
    await page.close();
  } finally {
    c2.kill();
  }
}

let browser;
try {
  replay('mixed', 'edge-a', true); // with countries: AS64501 in DE and FR
  await sleep(1500);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // Every list the dashboard polls is asked for with a limit (issue 15: no unbounded reads).
  const unbounded = new Set();
  page.on('request', (q) => {
    const u = new URL(q.url());
    if (['/api/v1/asns', '/api/v1/probes', '/api/v1/alerts', '/api/v1/regressions'].includes(u.pathname) &&
        !u.searchParams.get('limit'))
      unbounded.add(u.pathname);
  });
  await page.goto(base + '/');
  await page.waitForSelector('#asns tbody tr', { timeout: 10000 });
  const rows = async () => page.$$eval('#asns tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  let got = await rows();
  const want = truth.mixed.asns;
  if (got.length !== Object.keys(want).length) fail(`table has ${got.length} rows, want ${Object.keys(want).length}`);
  let bad = 0;
  for (const [asn, t] of Object.entries(want)) {
    const r = got.find((x) => x[0] === 'AS' + asn);
    const s = t.rtt_data;
    const exp = [ms(pct(s, 50)), ms(pct(s, 90)), ms(pct(s, 99)), ms(pct(s, 100))];
    if (!r || r[4] !== exp[0] || r[5] !== exp[1] || r[6] !== exp[2] || r[7] !== exp[3] || r[3] !== String(s.length)) {
      fail(`AS${asn}: row ${r} != samples ${s.length}, p50/p90/p99/max ${exp}`);
      bad++;
    }
  }
  if (!bad) ok(`table: ${got.length} ASNs with the ground-truth sample counts and p50/p90/p99/max`);

  // Live: a second probe's data (same period) arrives; the table follows without a reload.
  replay('dense', 'edge-b');
  const asn = '64501';
  const both = [...truth.mixed.asns[asn].rtt_data, ...truth.dense.asns[asn].rtt_data];
  let live = false;
  for (let i = 0; i < 40 && !live; i++) {
    await sleep(250);
    got = await rows();
    const r = got.find((x) => x[0] === 'AS' + asn);
    live = r && r[3] === String(both.length) && r[4] === ms(pct(both, 50));
  }
  if (!live) fail(`no live update: AS${asn} row ${got.find((x) => x[0] === 'AS' + asn)}, want ${both.length} samples`);
  else ok(`live update: AS${asn} now ${both.length} samples from two probes, p50 ${ms(pct(both, 50))} ms (merged)`);
  // The tile polls /api/v1/probes on its own cycle, not with the table: give it a few.
  let probes = await page.textContent('#t-probes');
  for (let i = 0; i < 40 && !/^\d+ \/ 2$/.test(probes); i++) {
    await sleep(250);
    probes = await page.textContent('#t-probes');
  }
  if (!/^\d+ \/ 2$/.test(probes)) fail(`probes tile '${probes}' (want N / 2 within 10 s)`);

  // Click: the detail opens with the percentile ladder and drawn charts.
  await page.click(`#asns tbody tr[data-asn="${asn}"]`);
  await page.waitForFunction(() => document.querySelector('#d-ladder div') !== null, null, { timeout: 10000 });
  const title = await page.textContent('#d-title');
  const ladder = await page.$$eval('#d-ladder b', (bs) => bs.map((b) => b.textContent));
  if (title !== 'AS' + asn || ladder[1] !== ms(pct(both, 50)) || ladder[3] !== ms(pct(both, 99))) {
    fail(`detail: title ${title}, ladder ${ladder}`);
  }
  const painted = await page.$eval('#c-rtt', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 1] > 150 && d[i] < 120) n++; // green p50 line
    return n;
  });
  if (painted < 20) fail(`detail chart: p50 line not drawn (${painted} px)`);
  else ok(`click: detail for AS${asn}, ladder ${ladder.join('/')}, chart drawn`);
  const heat = await page.$eval('#c-heat', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 150 && d[i + 2] < 120 && d[i + 3] > 0) n++;
    return n;
  });
  const sparks = await page.$$eval('#asns tbody svg.spark path', (ps) => ps.length);
  const probeRows = await page.$$eval('#probes tbody tr', (trs) => trs.map((tr) => tr.firstChild.textContent));
  if (heat < 20) fail(`heatmap not drawn (${heat} px)`);
  if (sparks !== Object.keys(want).length) fail(`${sparks} sparklines for ${Object.keys(want).length} rows`);
  if (probeRows.sort().join(',') !== 'edge-a,edge-b') fail(`probe panel rows ${probeRows}`);
  if (heat >= 20 && sparks === Object.keys(want).length) ok(`heatmap drawn (${heat} px), ${sparks} sparklines, probe panel ${probeRows}`);
  await page.screenshot({ path: path.join(out, 'dashboard.png') });

  // The heatmap's latency labels are upper bounds: the band holding 307 ms lies between the
  // labels of its lower and upper bounds (issue 19: it was drawn above its upper bound's label).
  const axis = await page.evaluate(() => {
    const bounds = []; for (let b = 100; bounds.length < 30; b *= 1.5) bounds.push(Math.round(b));
    const k = bounds.findIndex((u) => u >= 307000);
    const col = [0, ...bounds.map((_, i) => (i === k ? 5 : 0))];
    const c = document.createElement('canvas'); c.width = 560; c.height = 170;
    const ctx = c.getContext('2d'), texts = [], rects = [];
    const ft = ctx.fillText.bind(ctx), fr = ctx.fillRect.bind(ctx);
    ctx.fillText = (t, x, y) => { texts.push([t, y]); ft(t, x, y); };
    ctx.fillRect = (x, y, w, h) => { rects.push([y, h]); fr(x, y, w, h); };
    heatmap(c, { bounds_us: bounds, columns: [col] });
    const at = (us) => (texts.find(([t]) => t === fmtMs(us) + ' ms') || [])[1];
    return { top: rects[0][0], bottom: rects[0][0] + rects[0][1], upper: at(bounds[k]), lower: at(bounds[k - 1]),
      k, ub: bounds[k], lb: bounds[k - 1] };
  });
  if (!(axis.upper <= axis.top + 1 && axis.lower >= axis.bottom - 1))
    fail(`heatmap axis: band ${axis.lb}-${axis.ub} us drawn at y ${axis.top}-${axis.bottom}, labels at ${axis.lower} / ${axis.upper}`);
  else ok(`heatmap axis: 307 ms is drawn between the ${fmt(axis.lb)} and ${fmt(axis.ub)} ms labels`);

  // Countries: the panel lists the API's countries; a shared URL reopens a view (country,
  // sort, filter, minimum samples, selected ASN); the filter takes AS174 as well as 174.
  const cApi = await fetch(base + '/api/v1/countries?range=1m&metric=rtt_data&limit=300').then((x) => x.json());
  await page.waitForFunction((n) => document.querySelectorAll('#countries tbody tr').length === n,
    cApi.countries.length, { timeout: 10000 }).catch(() => {});
  const cRows = await page.$$eval('#countries tbody tr', (trs) => trs.map((tr) =>
    [tr.dataset.country, tr.children[2].textContent]));
  const de = cApi.countries.find((c) => c.country === 'DE');
  const deRow = cRows.find((r) => r[0] === 'DE');
  if (!de || cRows.length !== cApi.countries.length || !deRow || deRow[1] !== String(de.rtt_data.n))
    fail(`countries panel ${JSON.stringify(cRows)} != API ${cApi.countries.map((c) => c.country)}`);
  else ok(`countries panel: ${cRows.length} countries, DE with ${de.rtt_data.n} samples as the API`);
  // The world map: the API's countries coloured by p90 (the slowest red, the fastest green),
  // the others left as no data; a click on a country selects it.
  const fills = await page.$$eval('#map path[data-numeric]', (ps) => Object.fromEntries(
    ps.filter((p) => p.dataset.numeric).map((p) => [p.dataset.numeric, [p.getAttribute('fill'), p.dataset.country || '']])));
  const known = cApi.countries.filter((c) => c.numeric && c.rtt_data.n);
  const slow = known.reduce((a, c) => (c.rtt_data.p90_us > a.rtt_data.p90_us ? c : a));
  const fast = known.reduce((a, c) => (c.rtt_data.p90_us < a.rtt_data.p90_us ? c : a));
  const badFill = known.filter((c) => {
    const f = fills[String(Number(c.numeric))];
    return !f || f[0] === '#1e2630' || f[1] !== c.country;
  }).map((c) => c.country);
  const others = Object.entries(fills).filter(([n, f]) => f[0] !== '#1e2630' &&
    !known.some((c) => Number(c.numeric) === Number(n)));
  if (!known.length || badFill.length || others.length ||
      fills[String(Number(slow.numeric))][0] !== 'rgb(255,92,92)' ||
      fills[String(Number(fast.numeric))][0] !== 'rgb(62,207,142)')
    fail(`map: uncoloured ${badFill}, coloured without data ${others.map((o) => o[0])}, slowest ${slow.country} ` +
      `${JSON.stringify(fills[String(Number(slow.numeric))])}, fastest ${fast.country} ${JSON.stringify(fills[String(Number(fast.numeric))])}`);
  else ok(`map: ${known.length} countries coloured by p90 (${slow.country} slowest, red; ${fast.country} fastest, ` +
    `green), ${Object.keys(fills).length - known.length} outlines without data`);
  // (A dispatched click: a country's bounding box centre may lie in another's outline or the sea.)
  await page.$eval(`#map path[data-country="${fast.country}"]`,
    (el) => el.dispatchEvent(new MouseEvent('click', { bubbles: true })));
  await page.waitForFunction((cc) => document.getElementById('country').value === cc, fast.country,
    { timeout: 5000 }).catch(() => {});
  const afterClick = await page.evaluate(() => [document.getElementById('country').value, location.hash]);
  if (afterClick[0] !== fast.country || !afterClick[1].includes('country=' + fast.country))
    fail(`map click on ${fast.country}: selector ${afterClick[0]}, URL ${afterClick[1]}`);
  else ok(`map click: ${fast.country} selected, in the URL too`);
  await page.selectOption('#country', '');
  await page.screenshot({ path: path.join(out, 'dashboard-map.png') });
  // The "alerting now" strip: one chip per firing alert; a chip opens its ISP.
  const api = await fetch(base + '/api/v1/alerts?state=firing').then((x) => x.json());
  await page.waitForFunction((n) => document.querySelectorAll('#alerting-list .chip').length === n,
    api.firing, { timeout: 10000 }).catch(() => {});
  const chips = await page.$$eval('#alerting-list .chip', (cs) => cs.map((c) => c.dataset.asn));
  const firing = api.alerts.map((a) => String(a.asn)).sort();
  if (!api.firing || chips.slice().sort().join() !== firing.join())
    fail(`alert strip shows ${chips} while the API has ${firing} firing`);
  else {
    await page.click('#alerting-list .chip');
    await page.waitForFunction((a) => document.querySelector('#d-title').textContent === 'AS' + a,
      chips[0], { timeout: 10000 });
    ok(`alert strip: ${chips.length} firing alerts as chips, a click opens AS${chips[0]}`);
  }

  // (The same page, reloaded on the shared URL: the collector's connections stay few.)
  const view = page;
  await view.goto('about:blank');
  await view.goto(base + '/#range=1d&country=DE&sort=p90&min=1&filter=AS6450&asn=64501');
  const deApi = await fetch(base + '/api/v1/asns?range=1d&country=DE&limit=100').then((x) => x.json());
  await view.waitForFunction((n) => document.querySelectorAll('#asns tbody tr').length === n &&
    document.querySelector('#d-ladder div') !== null, deApi.asns.length, { timeout: 10000 })
    .catch((e) => console.log('shared view: waiting:', String(e).split('\n')[0]));
  const vRows = await view.$$eval('#asns tbody tr', (trs) => trs.map((tr) =>
    [tr.dataset.asn, tr.children[3].textContent]));
  const vState = await view.evaluate(() => ({ country: document.getElementById('country').value,
    sort: new URLSearchParams(location.hash.slice(1)).get('sort'),
    sorted: (document.querySelector('#asns th.sorted') || {}).textContent,
    title: document.getElementById('d-title').textContent, range: document.getElementById('range').value }));
  const wantRows = deApi.asns.map((a) => [String(a.asn), String(a.rtt_data.n)]).sort().join();
  if (vRows.slice().sort().join() !== wantRows || vState.country !== 'DE' || vState.sort !== 'p90' || vState.sorted !== 'p90 ms' ||
      vState.title !== 'AS64501' || vState.range !== '1d')
    fail(`shared view: rows ${JSON.stringify(vRows)} (want ${wantRows}), state ${JSON.stringify(vState)}`);
  else ok(`shared URL: country DE, sort p90, range 1d and AS64501 reopened; rows ${JSON.stringify(vRows)} as /api/v1/asns?country=DE`);
  await view.fill('#filter', 'AS64506');
  await view.waitForFunction(() => [...document.querySelectorAll('#asns tbody tr')].map((tr) => tr.dataset.asn).join() === '64506',
    null, { timeout: 10000 }).catch(() => {});
  const one = await view.$$eval('#asns tbody tr', (trs) => trs.map((tr) => tr.dataset.asn));
  const hash = await view.evaluate(() => location.hash);
  if (one.join() !== '64506' || !hash.includes('filter=AS64506') || !hash.includes('country=DE'))
    fail(`filter AS64506: rows ${one}, URL ${hash}`);
  else ok(`filter 'AS64506': one row; the URL follows (${hash})`);
  await view.fill('#min', '1000000');
  await view.waitForFunction(() => document.querySelectorAll('#asns tbody tr').length === 0, null,
    { timeout: 10000 }).catch(() => {});
  const none = await view.$$eval('#asns tbody tr', (trs) => trs.length);
  if (none !== 0) fail(`min samples 1000000: ${none} rows ranked`);
  else ok('min samples: ISPs below it are left out of the ranking');

  await page.goto('about:blank');
  await page.goto(base + '/');
  await page.waitForSelector('#asns tbody tr', { timeout: 10000 });
  // 10,000 more ASNs (a simulated probe, live clock): pages of 500, sorted by the collector.
  const r = spawnSync(loadgen, [`127.0.0.1:${udp}`, '1', '10000', '2'], { encoding: 'utf8' });
  if (r.status !== 0) fail(`load generator: ${r.stderr}`);
  let info = '';
  for (let i = 0; i < 60 && !/of 10\.0k ISPs/.test(info); i++) {
    await sleep(250);
    info = await page.textContent('#page-info');
  }
  const n = await page.$$eval('#asns tbody tr', (trs) => trs.length);
  const t = await page.evaluate(() => { const t0 = performance.now(); render(); return performance.now() - t0; });
  if (n !== 500 || !/^1–500 of 10\.0k ISPs$/.test(info)) fail(`10,000 simulated ASNs: ${n} rows, '${info}'`);
  else ok(`10,000 simulated ASNs: a page of ${n} rows ('${info}'), re-rendered in ${t.toFixed(0)} ms`);
  // The page follows the closed windows through ?events=tick (not whole windows of 10,000 ASNs).
  const tick = await page.textContent('#t-live');
  if (!/^\d\d:\d\d:\d\d$/.test(tick)) fail(`last closed window tile '${tick}': no tick events`);
  else ok(`stream ticks: last closed window ${tick} UTC`);
  const t0 = Date.now();
  await page.click('#next');
  const tClick = Date.now() - t0;
  await page.waitForFunction(() => document.getElementById('page-info').textContent.startsWith('501–'),
    null, { timeout: 10000 }).catch(() => {});
  const next = [await page.textContent('#page-info'), Date.now() - t0];
  const firstOfPage2 = await page.$$eval('#asns tbody tr', (trs) => trs.length);
  if (!next[0].startsWith('501–') || firstOfPage2 !== 500) fail(`next page: '${next[0]}', ${firstOfPage2} rows`);
  else ok(`next page: '${next[0]}' in ${next[1]} ms (the click itself ${tClick} ms)`);
  await page.fill('#filter', 'AS19999');
  await page.waitForFunction(() => [...document.querySelectorAll('#asns tbody tr')].map((tr) => tr.dataset.asn).join() === '19999',
    null, { timeout: 10000 }).catch(() => {});
  const found = await page.$$eval('#asns tbody tr', (trs) => trs.map((tr) => tr.dataset.asn));
  if (found.join() !== '19999') fail(`filter AS19999 among 10,000: rows ${found.slice(0, 5)}`);
  else ok('filter AS19999 among 10,000 ASNs: found by the collector (q=), whatever page it was on');
  if (errors.length) fail(`${errors.length} console errors: ${errors.slice(0, 3).join(' | ')}`);
  else ok('no console errors');
  if (unbounded.size) fail(`the dashboard polls without a limit: ${[...unbounded].join(', ')}`);
  else ok('every list the dashboard polls carries a limit');
  const qoeHidden = await page.$eval('th.qoe', (th) => getComputedStyle(th).display === 'none');
  if (!qoeHidden) fail('a collector without --qoe: the QoE columns show');
  else ok('a collector without --qoe: no QoE columns or panels');
  await page.close();
  await players(browser);
} catch (e) {
  fail(String(e.stack || e));
} finally {
  if (browser) await browser.close();
  coll.kill();
}
console.log(`${fails.length ? 'FAILED' : 'PASSED'}: ${fails.length} failures`);
process.exit(fails.length ? 1 : 0);
