#!/bin/bash
# `ingot pull`, `list` and `rm` as a user runs them, against the fake hub
# (tests/hub_server.c) on 127.0.0.1: output on a pseudo-terminal (progress
# bar with bytes, rate and ETA) and off one (plain lines, or JSON lines with
# --json), re-pull without download, a process killed mid-transfer and the
# resume, network loss, gated repos and HF_TOKEN, 404, offline mode, list
# and list --catalog, rm that asks, refuses without a terminal, and keeps
# blobs another snapshot uses. Needs INGOT, INGOT_FIXTURES, HUB_SERVER.
set -u
pass=0
fail=0
check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name" >&2; fi
}
contains() { grep -q -- "$2" "$1"; }
lacks() { ! grep -q -- "$2" "$1"; }

TMP=$(mktemp -d /tmp/ingot-hub-cli-XXXXXX)
exec 3< <(exec "$HUB_SERVER" --fixtures "$INGOT_FIXTURES" --timeout 100)
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# Blocks until the server prints the port it bound.
read -r -t 20 PORT <&3 || { echo "hub_server did not start" >&2; exit 1; }

export HF_ENDPOINT=http://127.0.0.1:$PORT
export HF_HUB_CACHE=$TMP/hub HF_HOME=$TMP/hf
unset HF_TOKEN HF_HUB_OFFLINE HUGGING_FACE_HUB_TOKEN HF_TOKEN_PATH
ctl() { curl -s --max-time 10 "$HF_ENDPOINT/_ctl/$1"; }
stat_of() { ctl stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
FX=$INGOT_FIXTURES/models

# --help teaches: references, environment, examples.
"$INGOT" pull --help >"$TMP/help" 2>&1
check "pull --help exits 0" [ $? -eq 0 ]
for w in "org/repo:Q8_0" "hf://" "HF_TOKEN" "HF_HUB_OFFLINE" "HF_ENDPOINT" "resume" "examples" "list --catalog"; do
    check "pull --help mentions $w" contains "$TMP/help" "$w"
done
"$INGOT" list --help | grep -q -- "--catalog"
check "list --help" [ $? -eq 0 ]
"$INGOT" rm --help | grep -q -- "--yes"
check "rm --help" [ $? -eq 0 ]
"$INGOT" pull >/dev/null 2>&1
check "pull without REF is a usage error" [ $? -eq 2 ]
"$INGOT" pull --bogus x >/dev/null 2>&1
check "unknown option is a usage error" [ $? -eq 2 ]

# Pull off a terminal: plain lines, no bar; the path on stdout.
ctl reset >/dev/null
"$INGOT" pull test-org/tiny-GGUF >"$TMP/out" 2>"$TMP/err"
check "pull exits 0" [ $? -eq 0 ]
P=$(tail -n 1 "$TMP/out")
check "path names the Q4_K_M file" [ "${P##*/}" = tiny-Q4_K_M.gguf ]
check "file is the fixture" cmp -s "$P" "$FX/synthetic/llama-Q4_K_M.gguf"
check "says which file and why" contains "$TMP/err" "chose tiny-Q4_K_M.gguf"
check "plain progress lines" contains "$TMP/err" "downloading tiny-Q4_K_M.gguf"
check "no carriage return off a terminal" lacks "$TMP/err" $'\r'
check "no escape codes off a terminal" lacks "$TMP/err" $'\033'
check "symlink is relative" [ "$(readlink "$P" | cut -c1-12)" = "../../blobs/" ]

# Re-pull: nothing downloaded.
ctl reset >/dev/null
"$INGOT" pull test-org/tiny-GGUF >/dev/null 2>"$TMP/err"
check "re-pull exits 0" [ $? -eq 0 ]
check "re-pull says up to date" contains "$TMP/err" "up to date"
check "re-pull downloads nothing" [ "$(stat_of cdn)" = 0 ]
check "re-pull asks once" [ "$(stat_of api)" = 1 ] 

# --json: every line is JSON; events then the result.
"$INGOT" pull --json test-org/tiny-GGUF:Q8_0 >"$TMP/json" 2>"$TMP/err"
check "pull --json exits 0" [ $? -eq 0 ]
python3 - "$TMP/json" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ev = [l["event"] for l in lines]
assert ev[0] == "start" and "file_start" in ev and "file_done" in ev and ev[-2:] == ["done", "result"], ev
r = lines[-1]
assert r["path"].endswith("/tiny-Q8_0.gguf") and r["quant"] == "Q8_0" and r["format"] == "gguf", r
assert r["downloaded"] == 1 and r["bytes_downloaded"] == r["bytes_total"] > 0, r
EOF
check "pull --json lines" [ $? -eq 0 ]
check "pull --json leaves stderr quiet" [ ! -s "$TMP/err" ]

# On a terminal: a redrawn bar with percentage, bytes, rate and ETA. The
# server sends 64 kB every 20 ms, so the pull lasts over a second.
ctl "set?chunk_delay_ms=20" >/dev/null
script -qfec "$INGOT pull test-org/noq4-GGUF:F16" /dev/null >"$TMP/tty" 2>&1 </dev/null
check "pull on a pty exits 0" [ $? -eq 0 ]
ctl reset >/dev/null
check "bar is redrawn in place" contains "$TMP/tty" $'\r\033\[K'
check "bar shows a percentage and bar" grep -qE '[0-9]+% \[#*\.*\]' "$TMP/tty"
check "bar shows bytes of total" grep -qE '[0-9.]+ [kM]?B / 3\.69 MB' "$TMP/tty"
check "bar shows a measured rate" grep -qE '[0-9.]+ [kM]B/s' "$TMP/tty"
check "bar shows an ETA" grep -qE 'ETA [0-9]+:[0-9]{2}' "$TMP/tty"
check "bar reaches 100%" contains "$TMP/tty" "100% \["
check "pty run ends with the summary" contains "$TMP/tty" "pulled test-org/noq4-GGUF"

# Killed mid-transfer (SIGKILL), then resumed from the partial file.
SHA=$(sha256sum "$FX/synthetic/llama-f32.gguf" | cut -d' ' -f1)
PART=$HF_HUB_CACHE/models--test-org--noq4-GGUF/blobs/$SHA.incomplete
ctl "set?stall_after=500000&stall_count=1" >/dev/null
"$INGOT" pull test-org/noq4-GGUF/noq4-F32.gguf >/dev/null 2>&1 &
PULL=$!
for _ in $(seq 200); do # wait (at most 20 s) until 500000 bytes are on disk
    [ "$(stat -c %s "$PART" 2>/dev/null)" = 500000 ] && break
    sleep 0.1
done
check "partial file holds what arrived" [ "$(stat -c %s "$PART" 2>/dev/null)" = 500000 ]
kill -9 $PULL
wait $PULL 2>/dev/null
ctl reset >/dev/null
"$INGOT" pull test-org/noq4-GGUF/noq4-F32.gguf >"$TMP/out" 2>"$TMP/err"
check "resumed pull exits 0" [ $? -eq 0 ]
check "says it resumes" contains "$TMP/err" "resuming noq4-F32.gguf"
check "asked for the rest only" [ "$(stat_of last_range_start)" = 500000 ]
check "resumed file is whole" cmp -s "$(tail -n 1 "$TMP/out")" "$FX/synthetic/llama-f32.gguf"
check "no partial left" [ ! -e "$PART" ]

# Network loss without retries: a clear message, and the next pull resumes.
ctl "set?drop_after=100000&drop_count=1" >/dev/null
"$INGOT" pull --retries 0 test-org/stories260K-GGUF/stories260K.gguf >/dev/null 2>"$TMP/err"
check "network loss exits 1" [ $? -eq 1 ]
check "network loss says it will resume" contains "$TMP/err" "will resume"
ctl reset >/dev/null
"$INGOT" pull test-org/stories260K-GGUF/stories260K.gguf >/dev/null 2>&1
check "pull after network loss" [ $? -eq 0 ]
check "... resumed from 100000" [ "$(stat_of last_range_start)" = 100000 ]

# Gated repos, tokens, 404.
"$INGOT" pull gated-org/gated-GGUF >/dev/null 2>"$TMP/err"
check "gated exits 1" [ $? -eq 1 ]
check "gated says how to set HF_TOKEN" contains "$TMP/err" "HF_TOKEN=hf_"
HF_TOKEN=hf_test_token "$INGOT" pull gated-org/gated-GGUF >/dev/null 2>&1
check "HF_TOKEN opens the gated repo" [ $? -eq 0 ]
"$INGOT" pull test-org/tiny-GGUF/nope.gguf >/dev/null 2>"$TMP/err"
check "404 exits 1" [ $? -eq 1 ]
check "404 names the missing file" contains "$TMP/err" "nope.gguf"

# Offline: the cache only, and a clear error for what is not there.
ctl reset >/dev/null
HF_HUB_OFFLINE=1 "$INGOT" pull test-org/tiny-GGUF >/dev/null 2>&1
check "offline pull of a cached model" [ $? -eq 0 ]
HF_HUB_OFFLINE=1 "$INGOT" pull test-org/qwen3-mlx >/dev/null 2>"$TMP/err"
check "offline pull of a missing model exits 1" [ $? -eq 1 ]
check "offline error says so" contains "$TMP/err" "offline"
check "offline makes no request" [ "$(stat_of api)" = 0 ]
"$INGOT" pull -q test-org/qwen3-mlx >/dev/null 2>&1
check "pull an MLX snapshot" [ $? -eq 0 ]

# list
"$INGOT" list >"$TMP/list" 2>&1
check "list exits 0" [ $? -eq 0 ]
check "list shows the GGUF ref" contains "$TMP/list" "test-org/tiny-GGUF/tiny-Q4_K_M.gguf"
check "list shows the MLX snapshot" grep -qE 'test-org/qwen3-mlx +mlx +4bit' "$TMP/list"
check "list shows the total" grep -qE 'models?, .* on disk in' "$TMP/list"
"$INGOT" list --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
refs = [m['ref'] for m in d['models']]
assert 'test-org/tiny-GGUF/tiny-Q8_0.gguf' in refs and d['count'] == len(refs) and d['total_bytes'] > 0, d
"
check "list --json" [ $? -eq 0 ]
"$INGOT" list --catalog >"$TMP/cat" 2>&1
check "list --catalog exits 0" [ $? -eq 0 ]
check "catalog shows RAM" contains "$TMP/cat" "of RAM"
check "catalog lists qwen2.5:0.5b as fitting" grep -qE '^qwen2.5:0.5b +yes' "$TMP/cat"
check "catalog has MLX models" contains "$TMP/cat" "mlx-community/gemma-3n-E2B-it-4bit"
"$INGOT" list --catalog --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['ram_bytes'] > 0 and len(d['catalog']) >= 12
assert all(isinstance(e['fits'], bool) and e['mem_bytes'] > 0 for e in d['catalog'])
"
check "list --catalog --json" [ $? -eq 0 ]

# rm: refuses without a terminal, asks on one, keeps shared blobs.
Q8=$(HF_HUB_OFFLINE=1 "$INGOT" pull test-org/tiny-GGUF:Q8_0 2>/dev/null | tail -n 1)
"$INGOT" rm test-org/tiny-GGUF:Q8_0 </dev/null >/dev/null 2>"$TMP/err"
check "rm without a terminal refuses" [ $? -eq 2 ]
check "... and says --yes" contains "$TMP/err" "--yes"
check "... and removes nothing" [ -e "$Q8" ]
echo n | script -qec "$INGOT rm test-org/tiny-GGUF:Q8_0" /dev/null >"$TMP/tty" 2>&1
check "rm asks on a terminal" contains "$TMP/tty" "remove? \[y/N\]"
check "answering n keeps it" [ -e "$Q8" ]
echo y | script -qec "$INGOT rm test-org/tiny-GGUF:Q8_0" /dev/null >"$TMP/tty" 2>&1
check "answering y removes it" [ ! -e "$Q8" ]
check "rm says what it freed" contains "$TMP/tty" "removed test-org/tiny-GGUF:Q8_0"
"$INGOT" pull -q test-org/stories260K-GGUF@v1/README.md >/dev/null 2>&1 &&
    "$INGOT" pull -q test-org/stories260K-GGUF@v1/stories260K.gguf >/dev/null 2>&1
check "pull a second snapshot" [ $? -eq 0 ]
"$INGOT" rm --yes --json test-org/stories260K-GGUF@v1 >"$TMP/json" 2>/dev/null
check "rm --yes --json exits 0" [ $? -eq 0 ]
python3 -c "
import json, sys
d = json.load(open('$TMP/json'))[0]
assert d['entries'] == 2 and d['blobs_deleted'] == 1 and d['blobs_kept'] == 1, d
"
check "rm keeps the blob main still uses" [ $? -eq 0 ]
check "main's file is intact" cmp -s "$HF_HUB_CACHE/models--test-org--stories260K-GGUF/blobs/$(sha256sum "$FX/real/stories260K.gguf" | cut -d' ' -f1)" "$FX/real/stories260K.gguf"
"$INGOT" rm --yes nobody/nothing >/dev/null 2>"$TMP/err"
check "rm of a missing model exits 1" [ $? -eq 1 ]
check "... naming it" contains "$TMP/err" "nobody/nothing"

# A hub reference as -m: pulled on first use, then run (issue: `ingot run
# -m org/repo:FILE` on stories260K), and described by `ingot show`.
rm -rf "$HF_HUB_CACHE/models--test-org--stories260K-GGUF"
"$INGOT" run -m test-org/stories260K-GGUF:stories260K.gguf -p "Once upon a time" --temp 0 -n 8 \
    >"$TMP/out" 2>"$TMP/err"
check "run -m org/repo:FILE pulls and runs" [ $? -eq 0 ]
check "... the greedy continuation" [ "$(cat "$TMP/out")" = ", there was a little girl" ]
check "... the file is in the cache" [ -L "$(ls -d "$HF_HUB_CACHE"/models--test-org--stories260K-GGUF/snapshots/*)/stories260K.gguf" ]
HF_HUB_OFFLINE=1 "$INGOT" show test-org/stories260K-GGUF:stories260K.gguf >"$TMP/out" 2>"$TMP/err"
check "show of a pulled reference works offline" contains "$TMP/out" "architecture  llama"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
