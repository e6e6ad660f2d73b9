#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# build_deps.sh - the BPF object is rebuilt when any header it includes changes: every
# header under include/edgeprobe/ that ebpf/edgeprobe.bpf.c reaches (followed here through
# the #include lines, independently of the compiler) is in the dependencies ninja recorded
# from clang's depfile, and a touched ep_track.h makes the object out of date (a dry run;
# the header's time is put back).
# Also: no include crosses the layers (lib/ under probes and collector, never the reverse).
# Usage: build_deps.sh BUILD_DIR SOURCE_DIR
set -u
B=$1 S=$2
command -v ninja >/dev/null || { echo "SKIP: no ninja"; exit 77; }
OBJ=ebpf/edgeprobe.bpf.o
deps=$(ninja -C "$B" -t deps "$OBJ" 2>&1) || { echo "FAIL: ninja -t deps: $deps"; exit 1; }
echo "$deps" | grep -q "edgeprobe.bpf.c" || { echo "FAIL: no recorded dependencies for $OBJ"; echo "$deps"; exit 1; }
# The project headers the source reaches, by reading the #include lines.
want=$(python3 - "$S" <<'PY'
import os, re, sys
s = sys.argv[1]
seen, todo = set(), [os.path.join(s, "ebpf/edgeprobe.bpf.c")]
while todo:
    f = todo.pop()
    for m in re.finditer(r'#include\s+"(?:edgeprobe/)?([^"]+)"', open(f).read()):
        p = os.path.join(s, "include/edgeprobe", os.path.basename(m.group(1)))
        if os.path.exists(p) and p not in seen:
            seen.add(p)
            todo.append(p)
print("\n".join(sorted(os.path.basename(p) for p in seen)))
PY
)
[ "$(echo "$want" | wc -w)" -ge 8 ] || { echo "FAIL: found only: $want"; exit 1; }
fail=0
for h in $want; do
	if echo "$deps" | grep -q "include/edgeprobe/$h"; then
		echo "ok: $OBJ depends on $h"
	else
		echo "FAIL: $OBJ does not depend on include/edgeprobe/$h"
		fail=1
	fi
done
# The layering: lib/ includes nothing of probe/ or collector/; the collector nothing of probe/;
# the probes nothing of collector/ (the include paths enforce it; this names the offender).
layer=$(python3 - "$S" <<'PY'
import glob, os, re, sys
s = sys.argv[1]
def headers(d):
    return {os.path.basename(p) for p in glob.glob(os.path.join(s, d, "**", "*.h"), recursive=True)}
probe, coll = headers("probe"), headers("collector")
rules = (("lib", probe | coll), ("collector", probe - headers("lib")), ("probe", coll))
for d, banned in rules:
    for f in glob.glob(os.path.join(s, d, "**", "*.[ch]"), recursive=True):
        for m in re.finditer(r'#include\s+"([^"/]+)"', open(f).read()):
            if m.group(1) in banned and not os.path.exists(os.path.join(os.path.dirname(f), m.group(1))):
                print(f"{os.path.relpath(f, s)} includes {m.group(1)}")
PY
)
if [ -n "$layer" ]; then
	echo "FAIL: an include crosses the layers:"; echo "$layer"; fail=1
else
	echo "ok: lib/, probe/ and collector/ include only what their layer may"
fi
# A touched header makes the object out of date; restore its time afterwards.
H="$S/include/edgeprobe/ep_track.h"
ref=$(mktemp)
touch -r "$H" "$ref"
trap 'touch -r "$ref" "$H"; rm -f "$ref"' EXIT
if ninja -C "$B" -n "$OBJ" | grep -q "edgeprobe.bpf.o"; then
	echo "FAIL: $OBJ is out of date before the touch (build first)"
	exit 1
fi
touch "$H"
if ninja -C "$B" -n "$OBJ" | grep -q "edgeprobe.bpf.o"; then
	echo "ok: touching ep_track.h rebuilds $OBJ"
else
	echo "FAIL: touching ep_track.h does not rebuild $OBJ"
	fail=1
fi
[ $fail = 0 ] && echo "PASS" && exit 0
exit 1
