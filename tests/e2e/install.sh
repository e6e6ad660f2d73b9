#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# install.sh - `meson install` into a scratch DESTDIR puts the binaries, the dashboard, the
# docs, the Prometheus and alert rules and the systemd units in place, and systemd-analyze accepts
# the units (their ExecStart pointed at the staged binaries).   Usage: install.sh BUILDDIR OUT
set -u
B=$1 OUT=$2
rm -rf "$OUT" && mkdir -p "$OUT"
meson install -C "$B" --destdir "$OUT/root" --no-rebuild >"$OUT/install.log" 2>&1 ||
	{ echo "FAIL: meson install: $(tail -5 "$OUT/install.log")"; exit 1; }
prefix=$(meson introspect "$B" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
R="$OUT/root$prefix"
fail=0
for f in bin/edgeprobe-pcap bin/edgeprobe-dump bin/edgeprobe-collector bin/edgeprobe-query \
	share/edgeprobe/web/index.html share/edgeprobe/web/app.js share/edgeprobe/web/vendor/d3-geo.min.js \
	share/edgeprobe/web/vendor/countries-110m.json share/doc/edgeprobe/operations.md \
	share/edgeprobe/prometheus/edgeprobe-rules.yml lib/systemd/system/edgeprobe-collector.service \
	lib/systemd/system/edgeprobe-bpf.service lib/systemd/system/edgeprobe.service \
	lib/systemd/system/edgeprobe-pcap.service lib/systemd/system/edgeprobe-report-daily.timer \
	lib/systemd/system/edgeprobe-report-monthly.service etc/logrotate.d/edgeprobe; do
	[ -e "$R/$f" ] || { echo "FAIL: not installed: $prefix/$f"; fail=1; }
done
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$OUT/units"
	for u in "$R"/lib/systemd/system/*.service "$R"/lib/systemd/system/*.timer; do
		sed "s|$prefix/bin/|$R/bin/|" "$u" > "$OUT/units/$(basename "$u")"
	done
	# The probes' binaries may not be built here (DPDK, BPF): check the collector's unit fully,
	# the others for syntax.
	for u in "$OUT"/units/*.service "$OUT"/units/*.timer; do
		msg=$(systemd-analyze verify "$u" 2>&1 | grep -v "is not executable" | grep -v "^$")
		[ -z "$msg" ] || { echo "FAIL: systemd-analyze verify $(basename "$u"): $msg"; fail=1; }
	done
	# Exposure scores (0 best, 10 worst): the sandboxed units stay "OK" (< 2.5); the DPDK
	# probe starts as root for the EAL and must stay below 5.5 (docs/operations.md).
	scores=""
	for u in "$OUT"/units/*.service; do
		n=$(basename "$u" .service)
		sc=$(systemd-analyze security --offline=true --no-pager "$u" 2>&1 |
			sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
		max=2.5
		[ "$n" = edgeprobe ] && max=5.5
		if [ -z "$sc" ] || ! python3 -c "import sys; sys.exit(0 if $sc < $max else 1)"; then
			echo "FAIL: $n: exposure ${sc:-unknown} (want < $max)"; fail=1
		fi
		scores="$scores $n=$sc"
	done
	echo "exposure:$scores"
fi
# The shipped alert rules land where the collector looks for them by default, and load.
rules=$("$B/collector/edgeprobe-collector" --help | sed -n 's/.*default \(.*alerts\.ini\) when it exists/\1/p')
if [ -z "$rules" ] || [ ! -f "$OUT/root$rules" ]; then
	echo "FAIL: the default alert rules '$rules' are not installed"; fail=1
elif ! "$B/collector/edgeprobe-collector" --alert-rules "$OUT/root$rules" --listen udp://127.0.0.1:0 \
		--http off --run-seconds 1 --quiet; then
	echo "FAIL: the installed alert rules do not load"; fail=1
fi
[ $fail = 0 ] && echo "ok: installed under $prefix; units verified and scored by systemd-analyze ($scores ); alert rules at $rules"
exit $fail
