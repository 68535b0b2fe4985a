#!/bin/bash
# W4 instructions per request with start-up removed: the server under callgrind
# for 1 s and for 4 s of load, (T(4 s) - T(1 s)) / (R(4 s) - R(1 s)).
# usage: tools/w4_per_request.sh NAME SERVER [ARGS...]
#   e.g. tools/w4_per_request.sh streams build/bench/w4_echo
#        tools/w4_per_request.sh proto build/bench/w4_echo --protocol
#        tools/w4_per_request.sh uv build/bench/uv_w4_echo
# (callgrind output in /tmp/cg.NAME_1 and /tmp/cg.NAME_4: `callgrind_annotate
# --inclusive=yes /tmp/cg.NAME_4` shows where a request goes.)
N=$1; shift
HERE=$(dirname "$0")
A=$("$HERE/w4_callgrind.sh" ${N}_1 1 "$@"); B=$("$HERE/w4_callgrind.sh" ${N}_4 4 "$@")
echo "$A"; echo "$B"
python3 - "$A" "$B" <<'P'
import sys, re
a = [int(x) for x in re.findall(r'=(\d+)', sys.argv[1])]
b = [int(x) for x in re.findall(r'=(\d+)', sys.argv[2])]
print("per-request %.1f" % ((b[1] - a[1]) / (b[0] - a[0])))
P
