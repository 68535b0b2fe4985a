#!/bin/bash
# W4 under callgrind (bench/README.md, "W4's user-space path"): runs a W4 server
# under valgrind's callgrind with bench/w4_loadgen for SECONDS, then prints
# "NAME requests=R total=T" (T: the whole program's instructions).
# usage: tools/w4_callgrind.sh NAME SECONDS SERVER [ARGS...]
# The load generator: $W4_LOADGEN, else build/bench/w4_loadgen.
OUT=$1; SEC=$2; shift 2
LOADGEN=${W4_LOADGEN:-$(dirname "$0")/../build/bench/w4_loadgen}
valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$OUT "$@" 0 > /tmp/port.$OUT 2>/tmp/vg.$OUT &
SP=$!
for i in $(seq 100); do grep -q port= /tmp/port.$OUT && break; sleep 0.2; done
PORT=$(sed -n 's/port=//p' /tmp/port.$OUT)
R=$("$LOADGEN" $PORT 100 $SEC | sed 's/requests=\([0-9]*\).*/\1/')
kill -TERM $SP; wait $SP 2>/dev/null
T=$(callgrind_annotate /tmp/cg.$OUT 2>/dev/null | grep "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}')
echo "$OUT requests=$R total=$T"
