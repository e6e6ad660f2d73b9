#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Countries and regions end to end, against ground truth computed here from the
scenario capture's per-flow truth and the country file (not from edgeprobe's code):

- the probes (edgeprobe-pcap, and edgeprobe through a net_pcap vdev when built) split
  AS64501 into DE and FR and give every (ASN, country) aggregate's counters and
  percentiles exactly, in their JSON lines and at the collector;
- the collector's lists per ASN (countries merged), per (ASN, country), per country and
  per region (the UN M49 default, and an operator's EMEA/APAC/AMER file) equal the truth;
  country= and region= filter the lists, series and histograms;
- bad country codes, unknown regions and bad region files get clear errors;
- edgeprobe-query top --group country|region prints the same numbers;
- no capture address appears in any output: JSON lines, the wire messages (decoded with
  edgeprobe-dump, and the raw bytes for IPv6 addresses), the API, /metrics.

Usage: country_e2e.py COLLECTOR PCAP_PROBE QUERY DUMP GEN REGIONS OUTDIR [EDGEPROBE_DPDK]
"""
import csv as csv_mod
import hashlib
import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import eptest  # noqa: E402
from eptest import COUNTERS, FAILS, HISTS, OKS, fail, hdr_pct, ok  # noqa: E402

collector, pcap_probe, query, dump, gen, regions_m49, out = sys.argv[1:8]
dpdk = sys.argv[8] if len(sys.argv) > 8 and os.path.exists(sys.argv[8]) else None
# UN M49 sub-regions of the test's countries (the standard, written out here; Brazil's
# sub-region is Latin America and the Caribbean, South America its intermediate region).
M49 = {"DE": "Western Europe", "FR": "Western Europe", "JP": "Eastern Asia",
       "BR": "Latin America and the Caribbean", "US": "Northern America"}
OWN = {"DE": "EMEA", "FR": "EMEA", "JP": "APAC", "BR": "AMER", "US": "AMER"}
OWN_FILE = """# an operator's regions
[EMEA]
countries = DE FR GB
[APAC]
countries = JP, AU
[AMER]
countries = US BR
"""


def country_of(ranges, addr):
    a = ipaddress.ip_address(addr)
    for lo, hi, cc in ranges:
        if lo.version == a.version and lo <= a <= hi:
            return cc
    return None


def add(into, ft):
    x = into.setdefault("t", {k: 0 for k in COUNTERS} | {h: [] for h in HISTS})
    for k in COUNTERS:
        x[k] += ft[k]
    for h in HISTS:
        x[h] = x[h] + ft[h]


def group(flows, key):
    g = {}
    for f in flows:
        add(g.setdefault(key(f), {}), f)
    return {k: v["t"] for k, v in g.items()}


def compare(label, got, truth):
    """got, truth: {key: entry}; entries as the API and the JSON lines write them."""
    eptest.compare_truth(label, got, truth)


def main():
    os.makedirs(out, exist_ok=True)
    subprocess.run([gen, out], check=True, capture_output=True)
    truth = json.load(open(os.path.join(out, "mixed.truth.json")))
    pcap = os.path.join(out, "mixed.pcap")
    ranges = []
    for line in open(truth["country_file"]):
        lo, hi, cc = line.strip().split(",")
        ranges.append((ipaddress.ip_address(lo), ipaddress.ip_address(hi), cc))
    flows = truth["flows"]
    for f in flows:
        f["cc"] = country_of(ranges, f["remote"])
    by_pair = group(flows, lambda f: (f["asn"], f["cc"]))
    by_asn = group(flows, lambda f: f["asn"])
    by_cc = group(flows, lambda f: f["cc"])
    by_m49 = group(flows, lambda f: M49.get(f["cc"]))
    by_own = group(flows, lambda f: OWN.get(f["cc"]))
    if not ((64501, "DE") in by_pair and (64501, "FR") in by_pair and len(by_m49) >= 4):
        fail(f"the scenario does not split AS64501 or span regions: {sorted(by_pair, key=str)}")
    asn_db = truth["asn_file"] + "," + truth["country_file"]

    # The probe: to a collector and into a file of wire messages.
    c = eptest.Collector(collector, out, "m49", ["udp://127.0.0.1:0"],
                         ["--regions", regions_m49])
    wire = os.path.join(out, "wire.bin")
    lines = os.path.join(out, "pcap.json")
    for p in (wire, lines):
        if os.path.exists(p):
            os.unlink(p)
    cmd = [pcap_probe, "--read", pcap, "--asn-db", asn_db, "--local-net", truth["local_net"],
           "--probe-id", "cc-pcap", "--collector", f"udp://127.0.0.1:{c.ports[0]}",
           "--collector", f"file:{wire}", "--json-out", lines, "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        fail(f"edgeprobe-pcap: exit {r.returncode}: {r.stderr}")
        return 1
    summary = [json.loads(x) for x in open(lines)][-1]
    compare("edgeprobe-pcap JSON lines per (ASN, country)",
            {(a["asn"], a["country"]): a for a in summary["asns"]}, by_pair)
    ids = ["cc-pcap"]
    if dpdk:
        js = os.path.join(out, "dpdk.json")
        cmd = [dpdk, "-l", "0,1", f"--vdev=net_pcap0,rx_pcap={pcap}", "--no-huge", "--no-pci",
               "-m", "256", f"--file-prefix=cc{os.getpid()}", "--", "--stop-after-idle", "300",
               "--stats-interval", "0", "--quiet", "--asn-db", asn_db, "--local-net",
               truth["local_net"], "--probe-id", "cc-dpdk", "--json-out", js]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            fail(f"edgeprobe (DPDK): exit {r.returncode}: {r.stderr[-1500:]}")
        else:
            s = [json.loads(x) for x in open(js)][-1]
            compare("edgeprobe (DPDK) JSON lines per (ASN, country)",
                    {(a["asn"], a["country"]): a for a in s["asns"]}, by_pair)
    eptest_wait(c, ids)

    texts = {"JSON lines": open(lines).read()}
    api = {}

    def get(path):
        api[path] = c.get(path)
        return api[path]

    compare("API asns?by=country", {(a["asn"], a["country"]): a
                                     for a in get("/api/v1/asns?range=1d&by=country")["pairs"]},
            by_pair)
    compare("API asns (countries merged)",
            {a["asn"]: a for a in get("/api/v1/asns?range=1d")["asns"]}, by_asn)
    got = get("/api/v1/countries?range=1d")["countries"]
    compare("API countries", {a["country"]: a for a in got}, by_cc)
    names = {a["country"]: (a["name"], a["region"]) for a in got}
    if names.get("DE") != ("Germany", "Western Europe") or names.get(None) != ("", None):
        fail(f"countries: names and regions {names}")
    compare("API regions (UN M49)",
            {a["region"]: a for a in get("/api/v1/regions?range=1d")["regions"]}, by_m49)
    # Filters.
    de = group([f for f in flows if f["cc"] == "DE"], lambda f: f["asn"])
    compare("API asns?country=de", {a["asn"]: a for a in
                                    get("/api/v1/asns?range=1d&country=de")["asns"]}, de)
    we = group([f for f in flows if M49.get(f["cc"]) == "Western Europe"], lambda f: f["asn"])
    q = urllib.parse.quote("Western Europe")
    compare("API asns?region=Western Europe",
            {a["asn"]: a for a in get(f"/api/v1/asns?range=1d&region={q}")["asns"]}, we)
    compare("API countries?region=Western Europe",
            {a["country"]: a for a in get(f"/api/v1/countries?range=1d&region={q}")["countries"]},
            {k: v for k, v in by_cc.items() if M49.get(k) == "Western Europe"})
    h = get("/api/v1/asns/64501/histogram?range=1d&country=FR")["asn"]
    compare("API histogram AS64501 country=FR", {64501: h}, {64501: by_pair[(64501, "FR")]})
    pts = get("/api/v1/asns/64501/series?range=1d&step=1m&country=DE")["points"]
    n = sum(p[2] for p in pts if p[1] is not None)
    want = len(by_pair[(64501, "DE")]["rtt_data"])
    if n != want:
        fail(f"series AS64501 country=DE: {n} samples != {want}")
    else:
        ok(f"series AS64501 country=DE: {n} samples, the DE flows' alone")
    for path, param in (("/api/v1/asns?country=XX", "country"),
                        ("/api/v1/asns?country=DEU", "country"),
                        ("/api/v1/countries?region=Atlantis", "region")):
        code, body = c.get_err(path)
        if code != 400 or body.get("param") != param:
            fail(f"{path}: {code} {body}")
    ok("bad country codes and unknown regions: 400 naming the parameter")
    # edgeprobe-query.
    r = subprocess.run([query, "--server", c.url(""), "top", "--group", "country", "--range",
                        "1d", "--by", "p99"], capture_output=True, text=True)
    row = [x for x in r.stdout.splitlines() if x.startswith("DE Germany")]
    de_all = by_cc["DE"]
    if r.returncode or not row or f" {hdr_pct(de_all['rtt_data'], 99) / 1000:.1f} " not in row[0]:
        fail(f"edgeprobe-query top --group country: {r.returncode} {r.stdout} {r.stderr}")
    else:
        ok(f"edgeprobe-query top --group country: {row[0]}")
    r = subprocess.run([query, "--server", c.url(""), "top", "--group", "region", "--range",
                        "1d", "--region", "Eastern Asia"], capture_output=True, text=True)
    if r.returncode or len(r.stdout.splitlines()) != 2 or "Eastern Asia" not in r.stdout:
        fail(f"edgeprobe-query top --group region --region 'Eastern Asia': {r.stdout} {r.stderr}")
    else:
        ok("edgeprobe-query --region with a space in its name")
    with urllib.request.urlopen(c.url("/metrics"), timeout=30) as resp:
        texts["metrics"] = resp.read().decode()
    texts.update(check_reports(c, flows, by_cc))
    texts["API"] = json.dumps(api)
    c.stop()

    # An operator's own regions; a bad region file refused naming its line.
    own = os.path.join(out, "own-regions.ini")
    open(own, "w").write(OWN_FILE)
    c2 = eptest.Collector(collector, out, "own", ["udp://127.0.0.1:0"], ["--regions", own])
    cmd = [pcap_probe, "--read", pcap, "--asn-db", asn_db, "--local-net", truth["local_net"],
           "--probe-id", "cc-own", "--collector", f"udp://127.0.0.1:{c2.ports[0]}", "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True)
    eptest_wait(c2, ["cc-own"])
    compare("API regions (EMEA/APAC/AMER file)",
            {a["region"]: a for a in c2.get("/api/v1/regions?range=1d")["regions"]}, by_own)
    c2.stop()
    # Residency: a collector that keeps only Western Europe's records.
    c3 = eptest.Collector(collector, out, "resid", ["udp://127.0.0.1:0"],
                          ["--regions", regions_m49, "--accept-region", "Western Europe"])
    cmd[cmd.index("--collector") + 1] = f"udp://127.0.0.1:{c3.ports[0]}"
    cmd[cmd.index("--probe-id") + 1] = "cc-resid"
    subprocess.run(cmd, check=True, capture_output=True)
    eptest_wait(c3, ["cc-resid"])
    compare("--accept-region 'Western Europe': countries",
            {a["country"]: a for a in c3.get("/api/v1/countries?range=1d")["countries"]},
            {k: v for k, v in by_cc.items() if M49.get(k) == "Western Europe"})
    refused = c3.get("/api/v1/probes")["collector"].get("records_refused_region", 0)
    if refused < 1:
        fail(f"--accept-region: no record counted as refused ({refused})")
    else:
        ok(f"--accept-region: {refused} records of other regions dropped and counted")
    c3.stop()
    r = subprocess.run([collector, "--regions", regions_m49, "--accept-region", "Atlantis",
                        "--listen", "udp://127.0.0.1:0", "--http", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 2 or "Atlantis" not in r.stderr:
        fail(f"--accept-region Atlantis: exit {r.returncode}: {r.stderr}")
    bad = os.path.join(out, "bad-regions.ini")
    open(bad, "w").write("[EMEA]\ncountries = DE FR\n[APAC]\ncountries = JP QQ\n")
    r = subprocess.run([collector, "--regions", bad, "--listen", "udp://127.0.0.1:0",
                        "--http", "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
    if r.returncode != 2 or f"{bad}:4" not in r.stderr or "QQ" not in r.stderr:
        fail(f"bad region file: exit {r.returncode}: {r.stderr}")
    else:
        ok(f"bad region file refused: {r.stderr.strip()}")

    # Privacy: no address of the capture in any output.
    d = subprocess.run([dump, "--read", wire], capture_output=True, text=True)
    if d.returncode or not d.stdout:
        fail(f"edgeprobe-dump --read: {d.returncode} {d.stderr}")
    texts["wire (decoded)"] = d.stdout
    raw = open(wire, "rb").read()
    addrs = {f["remote"] for f in flows} | {"192.0.2.10", "2001:db8:ff::10"}
    leaks = [(name, a) for name, t in texts.items() for a in addrs
             if a in t or ipaddress.ip_address(a).exploded in t]
    leaks += [("wire (raw)", a) for a in addrs if ipaddress.ip_address(a).version == 6
              and ipaddress.ip_address(a).packed in raw]
    if leaks:
        fail(f"capture addresses in outputs: {leaks[:5]}")
    else:
        ok(f"none of the capture's {len(addrs)} addresses in {', '.join(texts)} or the raw "
           f"wire messages ({len(raw)} bytes)")
    print(f"{len(OKS)} ok, {len(FAILS)} failed")
    return 1 if FAILS else 0


def raw(c, path):
    with urllib.request.urlopen(c.url(path), timeout=30) as r:
        return r.read().decode()


def sha_ok(label, text, cut):
    """The trailer's SHA-256 is that of every byte before it (cut: the trailer's start)."""
    i = text.rfind(cut)
    body, tail = text[:i], text[i:]
    want = hashlib.sha256(body.encode()).hexdigest()
    if want not in tail:
        fail(f"{label}: trailer {tail[:120]!r} does not hold sha256 {want}")
        return False
    return True


def check_reports(c, flows, by_cc):
    """/api/v1/report for Western Europe in the three formats against the truth."""
    we = [f for f in flows if M49.get(f["cc"]) == "Western Europe"]
    truth = group(we, lambda f: (f["cc"], f["asn"]))
    allwe = group(we, lambda f: 0)[0]
    q = urllib.parse.quote("Western Europe")
    period = "2023-11"  # the scenario's capture starts at 2023-11-14T22:13:20Z
    texts = {}
    j = raw(c, f"/api/v1/report?period={period}&region={q}")
    texts["report (JSON)"] = j
    rep = json.loads(j)
    sha_ok("report JSON", j, ',"sha256":"')
    bad = 0
    rows = {(x["country"], x["asn"]): x for x in rep["report"]["rows"]}
    if set(rows) != set(truth):
        fail(f"report rows {sorted(rows)} != {sorted(truth)}")
        bad += 1
    for key, t in truth.items():
        x = rows.get(key)
        if not x:
            continue
        s = t["rtt_data"]
        want = {"flows": t["flows_new"], "samples": len(s), "hours_with_data": 1,
                "p50_ms": round(hdr_pct(s, 50) / 1000, 3), "p90_ms": round(hdr_pct(s, 90) / 1000, 3),
                "p95_ms": round(hdr_pct(s, 95) / 1000, 3), "p99_ms": round(hdr_pct(s, 99) / 1000, 3),
                "retx_rate": round(t["retx_out"] / t["segs_out"], 6)}
        for k, v in want.items():
            if abs(x[k] - v) > 1e-9:
                fail(f"report {key} {k} {x[k]} != {v}")
                bad += 1
    tot = rep["report"]["totals"]
    api = c.get(f"/api/v1/countries?range=3650d&end=1700086400&region={q}")["countries"]
    if (tot["flows"] != sum(a["flows_new"] for a in api) or tot["flows"] != allwe["flows_new"] or
            tot["samples"] != sum(a["rtt_data"]["n"] for a in api) or
            tot["p99_ms"] != round(hdr_pct(allwe["rtt_data"], 99) / 1000, 3)):
        fail(f"report totals {tot} != the API's {[(a['country'], a['flows_new']) for a in api]}")
        bad += 1
    if rep["report"]["datasets"] != ["asn unknown, country unknown"] or \
            "methodology" not in rep["report"] or not rep["report"]["edgeprobe_version"]:
        fail(f"report versions: {rep['report'].get('datasets')}")
        bad += 1
    if not bad:
        ok(f"report JSON ({period}, Western Europe): {len(rows)} (country, ASN) rows and totals "
           f"equal the truth and the API; SHA-256 of the body verified")
    csv = raw(c, f"/api/v1/report?period={period}&region={q}&format=csv")
    texts["report (CSV)"] = csv
    sha_ok("report CSV", csv, "# sha256 ")
    lines = [x for x in csv.splitlines() if not x.startswith("#")]
    parsed = list(csv_mod.DictReader(lines))
    got = {(r["country"], int(r["asn"])): r for r in parsed if r["country"] != "TOTAL"}
    if set(got) != set(truth) or any(float(got[k]["p99_ms"]) != rows[k]["p99_ms"] or
                                     int(got[k]["flows"]) != rows[k]["flows"] for k in got):
        fail(f"report CSV rows differ from JSON: {parsed}")
    else:
        ok("report CSV: the same rows, a TOTAL line, SHA-256 verified")
    rdir = os.path.join(out, "reports")
    os.makedirs(rdir, exist_ok=True)
    r = subprocess.run([query, "--server", c.url(""), "report", "--period", period, "--region",
                        "Western Europe", "--format", "csv", "--out", rdir],
                       capture_output=True, text=True)
    f = os.path.join(rdir, f"edgeprobe-report-{period}-Western-Europe.csv")
    if r.returncode or r.stdout.strip() != f or open(f).read() != csv:
        fail(f"edgeprobe-query report --out: {r.returncode} {r.stdout} {r.stderr}")
    else:
        ok(f"edgeprobe-query report --out wrote {os.path.basename(f)}, the API's bytes")
    html = raw(c, f"/api/v1/report?period={period}&region={q}&format=html")
    texts["report (HTML)"] = html
    sha_ok("report HTML", html, "<footer>")
    page = os.path.join(out, "report.html")
    pdf = os.path.join(out, "report.pdf")
    open(page, "w").write(html)
    for p in (pdf,):
        if os.path.exists(p):
            os.unlink(p)
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-pdf-header-footer", f"--print-to-pdf={pdf}", "file://" + page],
                       capture_output=True, text=True, timeout=120)
    if not os.path.exists(pdf):
        fail(f"chromium --print-to-pdf: {r.returncode} {r.stderr[-800:]}")
        return texts
    t = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True)
    png = subprocess.run(["pdftoppm", "-png", "-r", "40", pdf, os.path.join(out, "report-page")],
                         capture_output=True, text=True)
    pages = [x for x in os.listdir(out) if x.startswith("report-page")]
    want = ["Western Europe", "Germany", "France", "AS64501", "Total",
            hashlib.sha256(html[:html.rfind("<footer>")].encode()).hexdigest()[:16]]
    missing = [w for w in want if w not in t.stdout.replace("\n", "")]
    if t.returncode or png.returncode or not pages or missing:
        fail(f"report PDF: pdftotext {t.returncode}, pdftoppm {png.returncode}, pages "
             f"{pages}, missing {missing}")
    else:
        ok(f"report HTML printed to PDF by Chromium: {len(pages)} page(s), rows, totals and the "
           f"digest in the text")
    code, body = c.get_err("/api/v1/report?period=2023-13")
    code2, _ = c.get_err("/api/v1/report?period=2023-11&format=pdf")
    if code != 400 or body.get("param") != "period" or code2 != 400:
        fail(f"report bad period/format: {code} {body} {code2}")
    return texts


def eptest_wait(c, ids, timeout=20):
    """Until every probe has sent its summary and the collector closed everything."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        probes = {p["id"]: p for p in c.get("/api/v1/probes")["probes"]}
        if all(p in probes and probes[p]["summaries"] >= 1 for p in ids):
            time.sleep(1.2)
            return
        time.sleep(0.1)
    fail(f"probes {ids} did not finish in {timeout}s")


if __name__ == "__main__":
    sys.exit(main())
