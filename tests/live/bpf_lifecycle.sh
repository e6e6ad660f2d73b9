#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bpf_lifecycle.sh - edgeprobe-bpf's start and stop contract:
#  - without privileges it refuses to start, naming the capabilities it lacks (exit 1);
#  - bad flags and a missing interface are named (exit 2 / 1);
#  - killed with SIGKILL it leaves its TC filters; the next start replaces them, says so,
#    and measures; a clean stop (SIGTERM) removes them and writes the summary;
#  - the same with --xdp (XDP on ingress): a program of ours left behind is replaced;
#  - an operator's filter after ours on the hook (prio 240, BOUND_OBJ) still sees every
#    packet: ours ends with TC_ACT_UNSPEC, not TC_ACT_OK, which would end classification.
#
# Usage: bpf_lifecycle.sh EDGEPROBE_BPF WORKDIR BOUND_OBJ   (exit 77 without root)
set -u
BPF=$1 OUT=$2 LATER=$3
NS_S=ep-lsrv-$$ NS_C=ep-lcli-$$
. "$(dirname "$0")/lib.sh"
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF"
need_netns $NS_S $NS_C
mkdir -p "$OUT"
rm -f "$OUT"/*

# Unprivileged: a clear refusal.
msg=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BPF" --iface lo --asn-db none 2>&1)
rc=$?
[ $rc = 1 ] && echo "$msg" | grep -q "not enough privilege.*CAP_BPF" ||
	die "unprivileged start: exit $rc: $msg"
echo "ok: unprivileged: $msg"
msg=$("$BPF" --iface no-such-if0 --asn-db none 2>&1); rc=$?
[ $rc = 1 ] && echo "$msg" | grep -q "no-such-if0: no such interface" || die "missing interface: exit $rc: $msg"
msg=$("$BPF" --asn-db none 2>&1); rc=$?
[ $rc = 2 ] && echo "$msg" | grep -q -- "--iface IF is required" || die "no --iface: exit $rc: $msg"
echo "ok: a missing interface and a missing --iface are named"

ip link add eplv$$ netns $NS_S type veth peer name eplc$$ netns $NS_C || die "veth"
ns_addr $NS_S eplv$$ 192.0.2.1/24
ns_addr $NS_C eplc$$ 192.0.2.2/24
echo hello > "$OUT/f"
printf '192.0.2.2,192.0.2.2,64520,Client\n' > "$OUT/asn.csv"
http_server $NS_S 192.0.2.1 "$OUT" $NS_C f

start() { # log json [--xdp]
	ip netns exec $NS_S "$BPF" --iface eplv$$ ${3:-} --asn-db "$OUT/asn.csv" --local-net 192.0.2.1/32 \
		--json-out "$2" 2>"$1" &
	PID=$!
	PIDS+=($PID) # stopped at exit if a check fails while it runs
	local i
	for i in $(seq 100); do grep -q "attached to" "$1" && return 0; sleep 0.1; done
	die "edgeprobe-bpf did not attach: $(cat "$1")"
}
start "$OUT/run1.log" "$OUT/run1.json"
kill -KILL $PID
wait $PID 2>/dev/null
ip netns exec $NS_S tc filter show dev eplv$$ ingress | grep -q "handle 0xe9e9" ||
	die "expected the killed run's filter to be left on ingress"
echo "ok: SIGKILL leaves the filters: $(ip netns exec $NS_S tc filter show dev eplv$$ ingress | grep -c handle) on ingress"
start "$OUT/run2.log" "$OUT/run2.json"
grep -q "removing a filter left on ingress by an earlier run" "$OUT/run2.log" ||
	die "the restart did not say it replaced the stale filter: $(cat "$OUT/run2.log")"
n=$(ip netns exec $NS_S tc filter show dev eplv$$ ingress | grep -c "handle 0xe9e9")
[ "$n" = 1 ] || die "$n filters of ours on ingress after the restart"
# An operator's filter after ours (tests/live/bound.bpf.c as any later classifier): its
# run count from the kernel's BPF statistics.
bpf_stats_on || die "kernel.bpf_stats_enabled"
later_runs() { # hook: the run count of the filter at prio 240
	local id
	id=$(ip netns exec $NS_S tc filter show dev eplv$$ $1 prio 240 | grep -o ' id [0-9]*' |
		awk '{print $2}')
	bpftool prog show id "$id" -j |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get("run_cnt", 0))'
}
for h in ingress egress; do
	ip netns exec $NS_S tc filter add dev eplv$$ $h prio 240 bpf da obj "$LATER" sec tc ||
		die "attaching a later filter on $h"
done
for i in 1 2 3; do ip netns exec $NS_C curl -s -o /dev/null http://192.0.2.1:8080/f || die "curl"; done
sleep 0.3
li=$(later_runs ingress) le=$(later_runs egress)
[ "$li" -ge 15 ] && [ "$le" -ge 15 ] ||
	die "a later filter on the hooks saw $li ingress and $le egress packets of 3 connections"
echo "ok: a later filter on the hooks still sees the packets ($li ingress, $le egress)"
kill -TERM $PID
wait $PID || die "edgeprobe-bpf exited with an error: $(tail -3 "$OUT/run2.log")"
for h in ingress egress; do
	ip netns exec $NS_S tc filter show dev eplv$$ $h | grep -q 0xe9e9 &&
		die "filters of ours left on $h after SIGTERM"
done
ip netns exec $NS_S tc filter show dev eplv$$ ingress prio 240 | grep -q bpf ||
	die "SIGTERM removed the operator's filter too"
for h in ingress egress; do
	ip netns exec $NS_S tc filter del dev eplv$$ $h prio 240 || die "tc filter del"
done
# XDP on ingress: the same contract.
start "$OUT/run3.log" "$OUT/run3.json" --xdp
kill -KILL $PID
wait $PID 2>/dev/null
ip -n $NS_S link show eplv$$ | grep -q "xdp" || die "expected the killed run's XDP program to be left"
start "$OUT/run4.log" "$OUT/run4.json" --xdp
grep -q "replacing an XDP program left on ingress by an earlier run" "$OUT/run4.log" ||
	die "the --xdp restart did not replace the stale program: $(cat "$OUT/run4.log")"
ip netns exec $NS_C curl -s -o /dev/null http://192.0.2.1:8080/f || die "curl over XDP"
sleep 0.3
kill -TERM $PID
wait $PID || die "edgeprobe-bpf --xdp exited with an error: $(tail -3 "$OUT/run4.log")"
ip -n $NS_S link show eplv$$ | grep -q "xdp" && die "XDP left attached after SIGTERM"
ip netns exec $NS_S tc filter show dev eplv$$ egress | grep -q . && die "filters left on egress after --xdp"
python3 - "$OUT/run4.json" <<'PY' || exit 1
import json, sys
a = {x["asn"]: x for x in [json.loads(l) for l in open(sys.argv[1])][-1]["asns"]}.get(64520)
if not a or a["flows_new"] != 1 or a["rtt_hs"]["n"] != 1:
    print(f"FAIL: --xdp restart: {a}")
    sys.exit(1)
print("ok: --xdp: a killed run's XDP program is replaced at the next start and removed at SIGTERM")
PY
python3 - "$OUT/run2.json" <<'PY' || exit 1
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
a = {x["asn"]: x for x in s["asns"]}.get(64520)
if s["type"] != "summary" or not a or a["flows_new"] != 3 or a["flows_closed"] != 3 or a["rtt_hs"]["n"] != 3:
    print(f"FAIL: after the restart: {a}")
    sys.exit(1)
print(f"ok: the restarted probe measured 3 connections (rtt_hs p50 {a['rtt_hs']['p50_us']} us); "
      "SIGTERM removed its filters and wrote the summary")
PY
