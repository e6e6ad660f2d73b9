#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# package.sh - the Debian packages build (scripts/package), pass lintian with every remaining
# tag explained by an override, depend only on runtime libraries, and install with their
# maintainer scripts into a fresh directory tree (dpkg --root, scripts chrootless) without
# touching this host: the edgeprobe user, its state and log directories, the collector's key
# and the conffiles appear there.  Then, chrooted into that tree (with this host's shared
# libraries bound in) inside a network namespace, the installed programs run with their
# packaged defaults: --version of each; a replay through the installed edgeprobe-pcap (ASN
# data from edgeprobe-asn-data) into the installed collector (dashboard from its default
# --web-dir, alert rules from /etc/edgeprobe), whose API and the probe's summary equal the
# source build's replay of the same capture; the installed DPDK probe on the same capture
# (net_pcap); the installed edgeprobe-bpf attached to the namespace's loopback while curl
# in another namespace fetches from the collector over a veth.
# Usage: package.sh SOURCE_DIR EDGEPROBE_PCAP(reference build) GEN WORKDIR (77 without root)
set -u
S=$1 REF=$2 GEN=$3 OUT=$4
NS=ep-pkg-$$ NS2=ep-pkgc-$$
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg --root, chroot, namespaces)"; exit 77; }
ip netns add $NS 2>/dev/null && ip netns add $NS2 2>/dev/null ||
	{ ip netns del $NS 2>/dev/null; echo "SKIP: cannot create network namespaces"; exit 77; }
cleanup() {
	for n in $NS $NS2; do
		ip netns pids $n 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del $n 2>/dev/null
	done
}
trap cleanup EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
host_sum=$(cat /etc/passwd /etc/group | sha256sum)
dsh=/var/lib/systemd/deb-systemd-helper-enabled
host_dsh=$(ls -R $dsh 2>/dev/null | sha256sum)

# 1. Build.
t0=$(date +%s)
"$S/scripts/package" "$OUT/debs" >"$OUT/package.log" 2>&1 ||
	{ echo "FAIL: scripts/package: $(tail -20 "$OUT/package.log")"; exit 1; }
echo "ok: scripts/package built $(ls "$OUT"/debs/*.deb | wc -l) .deb files in $(($(date +%s) - t0)) s"
PKGS="common probe dpdk bpf collector asn-data"
debs=()
for p in $PKGS; do
	f=$(ls "$OUT"/debs/edgeprobe-${p}_*.deb 2>/dev/null | head -1)
	[ -n "$f" ] && debs+=("$f") || fail "no edgeprobe-$p package"
done
[ ${#debs[@]} = 6 ] || exit 1

# 2. lintian: nothing left that an override does not explain.
tags=$(grep -E '^[EWIP]:' "$OUT/debs/lintian.txt")
[ -z "$tags" ] || fail "lintian: $(echo "$tags" | head -5)"
overridden=$(cat "$S"/debian/*.lintian-overrides | grep -vc '^#')
[ -z "$tags" ] && echo "ok: lintian --info: no tag left ($overridden overridden, each with its reason)"

# 3. Runtime dependencies only (from dpkg-shlibdeps), and the ones each program needs.
for f in "${debs[@]}"; do
	deps=$(dpkg-deb -f "$f" Depends Recommends)
	if echo "$deps" | grep -Eq '(python3|chromium|prometheus|tshark|tcpdump|valgrind|clickhouse|kcat|nodejs|npm|scapy|iperf3|debhelper|meson|ninja|gcc|clang|-dev\b)'; then
		fail "$(basename "$f") depends on a build or test tool: $deps"
	fi
done
need() { dpkg-deb -f "$OUT"/debs/edgeprobe-$1_*.deb Depends | grep -q "$2" || fail "edgeprobe-$1 does not depend on $2"; }
need probe libpcap0.8; need dpdk librte-eal; need bpf libbpf1; need collector libmicrohttpd12
need collector librdkafka1; need collector libsqlite3-0; need collector libcurl4; need common systemd
echo "ok: Depends are runtime libraries only (dpkg-shlibdeps), e.g. collector: $(dpkg-deb -f "$OUT"/debs/edgeprobe-collector_*.deb Depends | tr -d '\n' | cut -c1-140)"

# 4. Install into a fresh tree: dpkg's database there knows this host's packages (so the
# dependencies resolve against real Debian packages), the files go nowhere else.
R=$OUT/root
mkdir -p "$R"/var/lib/dpkg/{info,updates,triggers} "$R/etc" "$R/tmp"
cp /var/lib/dpkg/status "$R/var/lib/dpkg/status"
touch "$R/var/lib/dpkg/available"
if ! dpkg --root="$R" --force-script-chrootless --log="$OUT/dpkg.log" -i "${debs[@]}" \
	>"$OUT/dpkg-install.log" 2>&1; then
	echo "FAIL: dpkg -i: $(tail -20 "$OUT/dpkg-install.log")"
	exit 1
fi
echo "ok: dpkg --root installed ${#debs[@]} packages with their maintainer scripts"
[ "$(cat /etc/passwd /etc/group | sha256sum)" = "$host_sum" ] || fail "the host's /etc/passwd or /etc/group changed"
[ "$(ls -R $dsh 2>/dev/null | sha256sum)" = "$host_dsh" ] || fail "the host's systemd enablement state changed"
pw=$(grep '^edgeprobe:' "$R/etc/passwd")
uid=$(echo "$pw" | cut -d: -f3)
if [ -z "$pw" ] || [ "$uid" -ge 1000 ] || [ "${pw##*:}" != /usr/sbin/nologin ]; then
	fail "edgeprobe user in the tree: '$pw'"
fi
for d in var/lib/edgeprobe var/log/edgeprobe; do
	st=$(stat -c '%u %a' "$R/$d" 2>/dev/null)
	[ "$st" = "$uid 750" ] || fail "/$d: '$st', want owner $uid mode 750"
done
st=$(stat -c '%a %s' "$R/etc/edgeprobe/collector.key" 2>/dev/null)
[ "$st" = "600 65" ] || fail "collector.key: '$st', want mode 600, 64 hex digits and a newline"
conf=$(dpkg --root="$R" -s edgeprobe-collector edgeprobe-probe edgeprobe-dpdk edgeprobe-bpf edgeprobe-common | sed -n 's/^ \(\/etc\/[^ ]*\) .*/\1/p' | sort | tr '\n' ' ')
for c in /etc/edgeprobe/alerts.ini /etc/default/edgeprobe-collector /etc/default/edgeprobe-pcap \
	/etc/default/edgeprobe /etc/default/edgeprobe-bpf /etc/logrotate.d/edgeprobe; do
	case " $conf " in *" $c "*) ;; *) fail "$c is not a conffile (conffiles: $conf)" ;; esac
done
for u in edgeprobe edgeprobe-pcap edgeprobe-bpf edgeprobe-collector; do
	f="$R/lib/systemd/system/$u.service"
	b=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f" 2>/dev/null)
	[ -n "$b" ] && [ -x "$R$b" ] || fail "$u.service: missing, or its ExecStart '$b' is not installed"
done
for m in edgeprobe edgeprobe-pcap edgeprobe-bpf edgeprobe-collector edgeprobe-query edgeprobe-dump; do
	zcat "$R/usr/share/man/man1/$m.1.gz" 2>/dev/null | grep -q '^\.SH DESCRIPTION' ||
		fail "no manual page for $m"
done
[ $fails = 0 ] && echo "ok: user $uid (nologin), /var/lib and /var/log/edgeprobe ($uid, 750), collector.key (600), conffiles: $conf; units and manual pages in place; the host untouched"

# 5. Run the installed programs in that tree.
python3 "$GEN" "$OUT/t.pcap" --flows 400 --seconds 6 --seed 11 >/dev/null
cp "$OUT/t.pcap" "$R/tmp/t.pcap"
LOCAL=192.0.2.0/24,2001:db8:ff::/48
"$REF" --read "$OUT/t.pcap" --local-net $LOCAL --json-out "$OUT/ref.json" --quiet ||
	fail "the reference replay failed"
mkdir -p "$R"/{proc,sys,dev,run,var/run,usr/lib64,lib64}
cat > "$OUT/inner.sh" <<INNER
set -u
R=$R
for d in lib lib64 usr/lib usr/lib64 usr/lib/x86_64-linux-gnu; do
	[ -d /\$d ] && mkdir -p \$R/\$d && mount --bind /\$d \$R/\$d
done
mount --bind /dev \$R/dev; mount -t proc proc \$R/proc; mount --bind /sys \$R/sys
cp /etc/ld.so.cache /etc/nsswitch.conf \$R/etc/ 2>/dev/null
ip link set lo up
X() { chroot \$R "\$@"; }
for b in edgeprobe-pcap edgeprobe-dump edgeprobe-query edgeprobe-collector edgeprobe-bpf edgeprobe; do
	echo "\$b: \$(X /usr/bin/\$b --version 2>&1 | head -1)"
done > \$R/tmp/versions.txt
chroot \$R /usr/bin/edgeprobe-collector --listen udp://127.0.0.1:4739 --http 198.51.100.1:8080 \
	--grace-ms 200 > \$R/tmp/collector.log 2>&1 &
cp=\$!
for i in \$(seq 50); do curl -s -o /dev/null http://198.51.100.1:8080/api/v1/probes && break; sleep 0.1; done
X /usr/bin/edgeprobe-pcap --read /tmp/t.pcap --local-net $LOCAL --probe-id pkg \
	--collector udp://127.0.0.1:4739 --json-out /tmp/pcap.json --quiet
echo "pcap rc=\$?" > \$R/tmp/rc.txt
sleep 1.5
curl -s http://198.51.100.1:8080/ > \$R/tmp/index.html
curl -s 'http://198.51.100.1:8080/api/v1/asns?range=1d&limit=100000' > \$R/tmp/asns.json
X /usr/bin/edgeprobe-query --server http://198.51.100.1:8080 top --range 1d --limit 5 > \$R/tmp/top.txt 2>&1
echo "query rc=\$?" >> \$R/tmp/rc.txt
# The BPF probe on the veth while a client namespace makes 20 connections to the collector.
chroot \$R /usr/bin/edgeprobe-bpf --iface pkg$$ --json-out /tmp/bpf.json > \$R/tmp/bpf.log 2>&1 &
bp=\$!
for i in \$(seq 600); do grep -q "attached" \$R/tmp/bpf.log && break; sleep 0.1; done
sleep 0.5
for i in \$(seq 20); do ip netns exec $NS2 curl -s -o /dev/null http://198.51.100.1:8080/api/v1/probes; done
sleep 0.5
kill -TERM \$bp; wait \$bp; echo "bpf rc=\$?" >> \$R/tmp/rc.txt
kill -TERM \$cp; wait \$cp
X /usr/bin/edgeprobe -l 0,1 --no-huge --no-pci -m 256 --file-prefix pkg$$ \
	--vdev net_pcap0,rx_pcap=/tmp/t.pcap -- --stop-after-idle 500 --local-net $LOCAL \
	--json-out /tmp/dpdk.json > \$R/tmp/dpdk.log 2>&1
echo "dpdk rc=\$?" >> \$R/tmp/rc.txt
INNER
ip link add pkg$$ netns $NS type veth peer name pkgc$$ netns $NS2 || { echo "FAIL: veth"; exit 1; }
ip -n $NS addr add 198.51.100.1/24 dev pkg$$ && ip -n $NS link set pkg$$ up
ip -n $NS2 addr add 198.51.100.2/24 dev pkgc$$ && ip -n $NS2 link set pkgc$$ up && ip -n $NS2 link set lo up
ip netns exec $NS bash "$OUT/inner.sh" > "$OUT/inner.log" 2>&1
version=$(dpkg-deb -f "${debs[0]}" Version)
while read -r line; do
	case "$line" in *" $version"*) ;; *) fail "--version: '$line' (want $version)" ;; esac
done < "$R/tmp/versions.txt"
[ "$(wc -l < "$R/tmp/versions.txt")" = 6 ] && echo "ok: $(tr '\n' ';' < "$R/tmp/versions.txt" | cut -c1-200)"
grep -q "rc=[^0]" "$R/tmp/rc.txt" && fail "exit codes: $(tr '\n' ' ' < "$R/tmp/rc.txt"); $(tail -n 3 "$R/tmp/dpdk.log" "$R/tmp/bpf.log")"
python3 - "$OUT/ref.json" "$R/tmp" <<'PY' || fails=$((fails + 1))
import json, sys
ref_path, t = sys.argv[1], sys.argv[2]
def summ(p):
    s = [json.loads(l) for l in open(p)][-1]
    return {a["asn"]: a for a in s["asns"]}
ref = summ(ref_path)
keys = ("flows_new", "segs_out", "segs_in", "retx_out")
want = {a: tuple(x[k] for k in keys) for a, x in ref.items()}
bad = 0
for name in ("pcap", "dpdk"):
    got = {a: tuple(x[k] for k in keys) for a, x in summ(f"{t}/{name}.json").items()}
    if got != want or len(want) < 20:
        print(f"FAIL: installed {name}: {len(got)} ASNs, the source build {len(want)}; "
              f"first difference {sorted(set(got.items()) ^ set(want.items()))[:2]}")
        bad += 1
api = {a["asn"]: a["segs_out"] for a in json.load(open(f"{t}/asns.json"))["asns"]}
if api != {a: x["segs_out"] for a, x in ref.items()}:
    print(f"FAIL: the installed collector's API holds {len(api)} ASNs, differing from the replay")
    bad += 1
index = open(f"{t}/index.html").read()
if "<title>" not in index or "app.js" not in index:
    print(f"FAIL: the dashboard from the default --web-dir: {index[:120]!r}")
    bad += 1
log = open(f"{t}/collector.log").read()
if "/etc/edgeprobe/alerts.ini" not in log:
    print(f"FAIL: the collector did not load the packaged alert rules: {log[-300:]!r}")
    bad += 1
top = open(f"{t}/top.txt").read()
if top.count("\n") < 5:
    print(f"FAIL: edgeprobe-query top: {top[:200]!r}")
    bad += 1
bpf = [json.loads(l) for l in open(f"{t}/bpf.json")][-1]
flows = sum(a["flows_new"] for a in bpf["asns"])
hs = sum(a["rtt_hs"]["n"] for a in bpf["asns"])
if flows < 20 or hs < 1:
    print(f"FAIL: installed edgeprobe-bpf on a veth: {flows} flows, {hs} handshake samples (want >= 20, >= 1)")
    bad += 1
if not bad:
    segs = sum(x[1] for x in want.values())
    print(f"ok: installed pcap and DPDK probes (default ASN data) equal the source build on "
          f"{len(want)} ASNs ({segs} segments out); the installed collector's API equals them, "
          f"serves the dashboard and loaded /etc/edgeprobe/alerts.ini; edgeprobe-query works; "
          f"edgeprobe-bpf on a veth counted {flows} flows and {hs} handshakes")
sys.exit(1 if bad else 0)
PY
# 6. Purge: the programs, the generated key and the conffiles go; the history directory stays.
if dpkg --root="$R" --force-script-chrootless --log="$OUT/dpkg.log" --purge \
	edgeprobe-probe edgeprobe-dpdk edgeprobe-bpf edgeprobe-collector edgeprobe-asn-data \
	edgeprobe-common >"$OUT/dpkg-purge.log" 2>&1; then
	left=$(ls "$R"/usr/bin/edgeprobe* "$R"/etc/edgeprobe/* "$R"/etc/default/edgeprobe* \
		"$R"/lib/systemd/system/edgeprobe* 2>/dev/null)
	[ -z "$left" ] || fail "left after purge: $left"
	[ -d "$R/var/lib/edgeprobe" ] || fail "purge removed /var/lib/edgeprobe (the history)"
	[ -z "$left" ] && echo "ok: purge removed programs, units, conffiles and the generated key; /var/lib/edgeprobe kept"
else
	fail "dpkg --purge: $(tail -5 "$OUT/dpkg-purge.log")"
fi
[ "$(cat /etc/passwd /etc/group | sha256sum)" = "$host_sum" ] || fail "the host's /etc/passwd or /etc/group changed"
[ $fails = 0 ] || { echo "inner log: $(tail -5 "$OUT/inner.log")"; exit 1; }
exit 0
