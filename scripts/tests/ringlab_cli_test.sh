#!/usr/bin/env bash
# scripts/tests/ringlab_cli_test.sh: the command line refuses bad arguments with a message
# and exit status 2, before it sets anything up or builds.
set -uo pipefail
cli="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/ringlab"
failures=0

expect() {  # expect STATUS MESSAGE-PATTERN ARGS...
    local want="$1" pattern="$2"
    shift 2
    local out status
    out="$("$cli" "$@" 2>&1 >/dev/null)"
    status=$?
    if [[ $status -ne $want || ! "$out" =~ $pattern ]]; then
        echo "FAIL: ringlab $* -> status $status, stderr '$out' (wanted $want and /$pattern/)" >&2
        failures=$((failures + 1))
    fi
}

expect 2 "unknown option '--quik'" test --quik
expect 2 "--out needs a directory" matrix --out
expect 2 "usage: scripts/ringlab journal dump" journal
expect 2 "usage: scripts/ringlab journal dump" journal list
expect 2 "unknown command 'tset'" tset

if ((failures)); then
    echo "ringlab_cli_test: $failures failure(s)" >&2
    exit 1
fi
echo "ringlab_cli_test: passed"
