# SPDX-License-Identifier: BSD-3-Clause
# lib.sh - shared plumbing of the live tests (sourced): skip/fail, namespaces and links that
# are removed at exit, background processes that are stopped at exit, a test HTTP server,
# userspace delay/loss "ISPs" between a bridge and client namespaces, the kernel's BPF
# run-time statistics switched on and restored at exit.

PIDS=()
NETNS=()
LINKS=()
BPF_STATS0=

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }

live_cleanup() {
	local p n l
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for l in "${LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	[ -z "$BPF_STATS0" ] || sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS0" 2>/dev/null
}
trap live_cleanup EXIT

# The BPF programs' run counts and times (kernel.bpf_stats_enabled) on until exit.
# @return non-zero where the kernel refuses.
bpf_stats_on() {
	BPF_STATS0=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
	sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null
}

# Root and namespaces, or skip: the first namespace's creation is the probe.
need_netns() { # names...
	[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
	ip netns add "$1" 2>/dev/null || skip "cannot create network namespaces here"
	NETNS+=("$1")
	shift
	local n
	for n in "$@"; do
		ip netns add "$n" || die "ip netns add $n"
		NETNS+=("$n")
	done
}

# NS DEV ADDR/LEN: address the device and bring it and loopback up.
ns_addr() {
	ip -n "$1" addr add "$3" dev "$2" || die "address $3 on $2"
	ip -n "$1" link set "$2" up
	ip -n "$1" link set lo up
}

# Mirror both directions of DEV (in NS) to a new veth pair MON{a,b}: MONa in NS, MONb in
# the root namespace, up, for a probe to read.
mirror_to() { # ns dev mon
	ip link add "${3}a" netns "$1" type veth peer name "${3}b" || die "monitor veth"
	LINKS+=("${3}b")
	ip -n "$1" link set "${3}a" up
	ip link set "${3}b" up
	tc -n "$1" qdisc add dev "$2" clsact || die "clsact on $2"
	local dir
	for dir in ingress egress; do
		tc -n "$1" filter add dev "$2" $dir protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "${3}a" || die "u32 mirred $dir"
	done
}

# An HTTP server on ADDR:8080 in NS serving DIR; waits until a client in CLIENT_NS gets FILE.
http_server() { # ns addr dir client_ns file
	ip netns exec "$1" python3 -m http.server 8080 --bind "$2" --directory "$3" >/dev/null 2>&1 &
	PIDS+=($!)
	local i
	for i in $(seq 100); do
		ip netns exec "$4" curl -s -o /dev/null --max-time 2 "http://$2:8080/$5" && return 0
		sleep 0.1
	done
	die "the HTTP server in $1 did not come up"
}

# A userspace delay/loss bridge ($BRIDGE, tests/live/delay_bridge.py) between a port of br0
# in $NS_S and a client namespace, the client addressed in a /24; BR_NAME is its pid, its
# statistics go to $OUT/bridge-NAME.txt.  The rest goes to the bridge: DELAY_MS [LOSS SEED
# [RATE_MBIT QUEUE_MS]].
delay_isp() { # name tap_srv tap_cli ns_cli addr bridge_args...
	local name=$1 ts=$2 tc=$3 ns=$4 addr=$5 i
	shift 5
	python3 "$BRIDGE" "$ts" "$tc" "$@" > "$OUT/bridge-$name.txt" 2>&1 &
	PIDS+=($!)
	eval "BR_$name=$!"
	for i in $(seq 50); do grep -q ready "$OUT/bridge-$name.txt" && break; sleep 0.1; done
	grep -q ready "$OUT/bridge-$name.txt" || die "delay bridge $name: $(cat "$OUT/bridge-$name.txt")"
	ip link set "$ts" netns "$NS_S" && ip link set "$tc" netns "$ns" || die "moving TAPs of $name"
	ip -n "$NS_S" link set "$ts" master br0 && ip -n "$NS_S" link set "$ts" up || die "br0 port $ts"
	ns_addr "$ns" "$tc" "$addr/24"
}
