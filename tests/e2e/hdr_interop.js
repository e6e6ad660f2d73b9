// SPDX-License-Identifier: BSD-3-Clause
// hdr_interop.js - HdrHistogram interoperability, both ways, with hdr-histogram-js (npm):
//  1. every histogram a probe exports (the scenario captures) decodes in hdr-histogram-js with
//     the same count, p50, p90, p99 and max as the probe's JSON says;
//  2. histograms encoded by hdr-histogram-js decode in edgeprobe's C decoder with the same
//     count and percentiles as hdr-histogram-js computes.
// Usage: node hdr_interop.js PROBE HDR_DECODE GEN OUTDIR
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const hdr = require(path.join(__dirname, "..", "..", "node_modules", "hdr-histogram-js"));

const [probe, decoder, gen, out] = process.argv.slice(2);
let fails = 0, checked = 0;
const fail = (m) => { fails++; console.log("FAIL: " + m); };

fs.mkdirSync(out, { recursive: true });
execFileSync("/usr/bin/python3", [gen, out]);
const truth = JSON.parse(fs.readFileSync(path.join(out, "mixed.truth.json")));
const json = path.join(out, "interop.json");
execFileSync(probe, ["--read", path.join(out, "mixed.pcap"), "--asn-db", truth.asn_file,
  "--local-net", truth.local_net, "--json-out", json, "--quiet"]);

// 1. probe -> hdr-histogram-js
for (const line of fs.readFileSync(json, "utf8").trim().split("\n")) {
  const w = JSON.parse(line);
  for (const a of w.asns) {
    for (const kind of ["rtt_hs", "rtt_data", "retx_ppm"]) {
      const o = a[kind], u = kind === "retx_ppm" ? "" : "_us";
      if (!o.n) continue;
      const h = hdr.decodeFromCompressedBase64(o.hdr);
      checked++;
      const got = [h.totalCount, h.getValueAtPercentile(50), h.getValueAtPercentile(90),
        h.getValueAtPercentile(99), h.maxValue];
      const want = [o.n, o["p50" + u], o["p90" + u], o["p99" + u], o["max" + u]];
      if (got.join() !== want.join())
        fail(`${w.type} AS${a.asn} ${kind}: hdr-histogram-js ${got} != probe ${want}`);
    }
  }
}

// 2. hdr-histogram-js -> edgeprobe's decoder
const lines = [], expect = [];
let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
for (let i = 0; i < 20; i++) {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60000000,
    numberOfSignificantValueDigits: 2 });
  const n = 1 + Math.floor(rnd() * 5000);
  for (let k = 0; k < n; k++) h.recordValue(Math.floor(Math.exp(rnd() * 16)));
  lines.push(hdr.encodeIntoCompressedBase64(h));
  expect.push([h.totalCount, h.getValueAtPercentile(50), h.getValueAtPercentile(90),
    h.getValueAtPercentile(99)].join(" "));
}
const dec = execFileSync(decoder, { input: lines.join("\n") + "\n" }).toString().trim().split("\n");
dec.forEach((l, i) => {
  checked++;
  const got = l.split(" ").slice(0, 4).join(" ");
  if (got !== expect[i]) fail(`hdr-histogram-js histogram ${i}: edgeprobe decodes ${got}, js says ${expect[i]}`);
});

console.log(`${checked} histograms compared, ${fails} failures`);
process.exit(fails ? 1 : (checked > 40 ? 0 : 1));
