#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# privdrop.sh - every probe gives up root after setup with --user NAME:
#  - edgeprobe-pcap (live): uid nobody, no capabilities, still capturing;
#  - edgeprobe (DPDK, net_af_packet): uid nobody, no capabilities, still polling;
#  - edgeprobe-bpf: uid nobody, only CAP_NET_ADMIN (to detach at exit), still reading maps;
# each measures 3 connections and, stopped with SIGTERM, writes its summary (edgeprobe-bpf
# also removes its filters).  The kernel's view (/proc/PID/status) is what is checked.
# Then as the systemd units run them (deploy/systemd): edgeprobe-pcap and edgeprobe-bpf
# started as nobody from the start, with only the units' AmbientCapabilities (setpriv),
# must attach, measure the same 3 connections and exit cleanly.
#
# Usage: privdrop.sh EDGEPROBE_PCAP EDGEPROBE_BPF|none EDGEPROBE|none WORKDIR  (77 without root)
set -u
PCAPP=$1 BPF=$2 EP=$3 OUT=$4
NS_S=ep-pdsrv-$$ NS_C=ep-pdcli-$$
. "$(dirname "$0")/lib.sh"
need_netns $NS_S $NS_C
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
mkdir -p "$OUT"
rm -f "$OUT"/*
ip link add eppd$$ netns $NS_S type veth peer name eppc$$ netns $NS_C || die "veth"
ns_addr $NS_S eppd$$ 192.0.2.1/24
ns_addr $NS_C eppc$$ 192.0.2.2/24
echo hello > "$OUT/f"
printf '192.0.2.2,192.0.2.2,64540,Client\n' > "$OUT/asn.csv"
http_server $NS_S 192.0.2.1 "$OUT" $NS_C f
common=(--asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 --user nobody)

check() { # name want_caps cmd... ; sets nothing, dies on failure
	local name=$1 want_caps=$2 ready="running as nobody"
	shift 2
	case $name in unit-*) ready="capturing on\|attached to" ;; esac
	ip netns exec $NS_S "$@" --json-out "${JDIR:-$OUT}/$name.json" 2>"$OUT/$name.log" &
	local pid=$! i
	for i in $(seq 300); do grep -q "$ready" "$OUT/$name.log" && break; sleep 0.1; done
	grep -q "$ready" "$OUT/$name.log" || die "$name did not start as expected: $(tail -5 "$OUT/$name.log")"
	local uid caps
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$pid/status)
	caps=$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)
	[ "$uid" = "65534 65534 65534 65534" ] || die "$name: uids $uid"
	[ "$caps" = "$want_caps" ] || die "$name: effective capabilities $caps, want $want_caps"
	sleep 0.5
	for i in 1 2 3; do ip netns exec $NS_C curl -s -o /dev/null http://192.0.2.1:8080/f || die "curl"; done
	sleep 0.5
	kill -TERM $pid
	wait $pid || die "$name exited with an error after dropping privileges: $(tail -3 "$OUT/$name.log")"
	python3 - "${JDIR:-$OUT}/$name.json" "$name" "$caps" <<'PY' || exit 1
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
a = {x["asn"]: x for x in s["asns"]}.get(64540)
if s["type"] != "summary" or not a or a["flows_new"] != 3:
    print(f"FAIL: {sys.argv[2]}: after dropping privileges: {a}")
    sys.exit(1)
print(f"ok: {sys.argv[2]}: running as nobody with CapEff {sys.argv[3]}, measured {a['flows_new']} "
      f"connections (rtt_hs n {a['rtt_hs']['n']}), summary written")
PY
}

check pcap 0000000000000000 "$PCAPP" --iface eppd$$ "${common[@]}"
if [ "$EP" != none ] && [ -x "$EP" ]; then
	check dpdk 0000000000000000 "$EP" -l 0,1 --no-huge --no-pci -m 256 --file-prefix pd$$ \
		--vdev "net_af_packet0,iface=eppd$$" -- --stats-interval 0 "${common[@]}"
fi
if [ "$BPF" != none ] && [ -x "$BPF" ]; then
	check bpf 0000000000001000 "$BPF" --iface eppd$$ "${common[@]}"
	ip netns exec $NS_S tc filter show dev eppd$$ ingress | grep -q . && die "bpf: filters left after SIGTERM as nobody"
	echo "ok: bpf: its filters were removed at exit with the one capability it kept"
fi

# As the units run them: nobody from the start, only the ambient capabilities of
# edgeprobe-pcap.service (NET_RAW, NET_ADMIN) and edgeprobe-bpf.service (BPF, PERFMON,
# NET_ADMIN).  setpriv execs the probe, so $! is the probe itself.
unit() { # caps(setpriv list): the command prefix in U
	U=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,$1
		--ambient-caps=-all,$1 --bounding-set=-all,$1)
}
# Their files in a directory of their own that the user can reach (the work directory may
# sit under one that only root can enter), as the units' LogsDirectory is.
JDIR=$(mktemp -d /tmp/ep-privdrop-XXXXXX) || die "mktemp"
chmod 0777 "$JDIR"
cp "$OUT/asn.csv" "$JDIR/asn.csv" && chmod 0644 "$JDIR/asn.csv"
trap 'rm -rf "$JDIR"; live_cleanup' EXIT
ucommon=(--asn-db "$JDIR/asn.csv" --local-net 192.0.2.1/32)
unit +net_raw,+net_admin
check unit-pcap 0000000000003000 "${U[@]}" "$PCAPP" --iface eppd$$ "${ucommon[@]}"
if [ "$BPF" != none ] && [ -x "$BPF" ]; then
	unit +bpf,+perfmon,+net_admin
	check unit-bpf 000000c000001000 "${U[@]}" "$BPF" --iface eppd$$ "${ucommon[@]}"
	ip netns exec $NS_S tc filter show dev eppd$$ ingress | grep -q . && die "unit-bpf: filters left after SIGTERM"
	echo "ok: unit-bpf: started as nobody with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN only, filters removed at exit"
fi
