#!/bin/sh
# examples/io_demo's command line (ctest io_demo_usage): bad input gets the
# usage on stderr, a line saying what is wrong, and status 2; -h/--help the
# usage on stdout and status 0. Nothing here connects anywhere.
# Usage: sh tests/io_demo_usage.sh build/examples/io_demo
#        sh tests/io_demo_usage.sh "/usr/bin/python3 examples/python/io_demo.py"  (the twin)
# (the command is split at spaces).
exe=${1:?a command: build/examples/io_demo}
failed=0

# expect STATUS STREAM PATTERN ARGS...: runs io_demo ARGS, checks its status and
# that STREAM (out or err) has a line matching PATTERN (grep -E).
expect() {
  want=$1 stream=$2 pattern=$3
  shift 3
  $exe "$@" >/tmp/io_demo_usage.$$.out 2>/tmp/io_demo_usage.$$.err
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: io_demo $*: status $got, expected $want"; cat /tmp/io_demo_usage.$$.err; failed=1
  elif ! grep -Eq "$pattern" /tmp/io_demo_usage.$$.$stream; then
    echo "FAIL: io_demo $*: no line matching '$pattern' on std$stream:"; cat /tmp/io_demo_usage.$$.$stream; failed=1
  elif [ "$want" -ne 0 ] && ! grep -q '^usage: io_demo' /tmp/io_demo_usage.$$.err; then
    echo "FAIL: io_demo $*: no usage on stderr"; failed=1
  else
    echo "ok: io_demo $* -> $got"
  fi
}

expect 0 out '^usage: io_demo +its own latency server' --help
expect 0 out '^ +io_demo PORT N scale \[LIMIT\]' -h
expect 2 err "^io_demo: error: PORT must be an integer from 1 to 65535, not '--bogus'" --bogus
expect 2 err "^io_demo: error: PORT must be an integer from 1 to 65535, not 'abc'" abc 10
expect 2 err "^io_demo: error: PORT and N are needed" 8080
expect 2 err "^io_demo: error: N must be an integer from 0 to 10000000, not '12x'" 8080 12x
expect 2 err "^io_demo: error: unknown WAY 'bogus'" 8080 5 sync bogus
expect 2 err "^io_demo: error: LIMIT must be an integer from 1 to 1000000, not '0'" 8080 5 scale 0
expect 2 err "^io_demo: error: scale takes LIMIT at most" 8080 5 scale 10 20
expect 2 err "^io_demo: error: PORT must be an integer from 0 to 65535, not '70000'" serve 70000
expect 2 err "^io_demo: error: LATENCY must be a number of seconds from 0 to 3600, not 'soon'" serve 0 soon
expect 2 err "^io_demo: error: serve takes PORT and LATENCY at most" serve 0 0.1 x
rm -f /tmp/io_demo_usage.$$.out /tmp/io_demo_usage.$$.err
exit $failed
