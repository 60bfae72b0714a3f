#!/usr/bin/env bash
# `ingot bench` as a user (or a script written for llama-bench) runs it:
# --help, usage errors (exit 2), a missing model (exit 1), --backends
# handed to the cross-backend comparison; -o json is an
# array of objects with llama-bench's fields whose values agree with the
# request (tests, threads, sample counts, avg_ts = mean of samples_ts) —
# only shape and consistency are checked, never speed; -o md and -o csv
# have one row per test.
set -u
M="$INGOT_FIXTURES/models/synthetic/llama-Q8_0-pure.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

"$INGOT" bench --help > "$tmp/help"
[ $? -eq 0 ] && grep -q -- "-o md|json|csv" "$tmp/help" && ok || bad "--help: $(cat "$tmp/help")"
"$INGOT" bench > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "missing -m" "$tmp/err" && ok || bad "no model: $(cat "$tmp/err")"
"$INGOT" bench -m "$M" -o xml > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "md, json and csv" "$tmp/err" && ok || bad "-o xml: $(cat "$tmp/err")"
"$INGOT" bench -m "$M" -p 12x > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && ok || bad "-p 12x: $(cat "$tmp/err")"
"$INGOT" bench -m "$M" -t 0 > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && ok || bad "-t 0: $(cat "$tmp/err")"
"$INGOT" bench -m "$tmp/missing.gguf" -p 8 -n 0 -r 1 > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "missing.gguf" "$tmp/err" && ok || bad "missing model: $(cat "$tmp/err")"

# --backends hands the arguments to the cross-backend comparison.
"$INGOT" bench --backends cpu --help > "$tmp/help2"
[ $? -eq 0 ] && grep -q "usage: ingot bench --backends LIST" "$tmp/help2" && ok || bad "--backends: $(cat "$tmp/help2")"

"$INGOT" bench -m "$M" -p 16,32 -n 4 -r 2 -t 1,2 -o json > "$tmp/b.json" 2> "$tmp/err"
[ $? -eq 0 ] && ok || bad "json run: $(cat "$tmp/err")"
python3 - "$tmp/b.json" "$M" << 'EOF' && ok || bad "json content: $(cat "$tmp/b.json")"
import json, sys, math
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) == 6, len(rows)
need = ["build_commit", "model_filename", "model_type", "model_size", "model_n_params", "n_batch",
        "n_threads", "n_prompt", "n_gen", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts",
        "samples_ns", "samples_ts", "ttft_ms", "peak_rss_bytes"]
for r in rows:
    for k in need:
        assert k in r, k
    assert r["model_filename"] == sys.argv[2]
    assert r["model_type"].startswith("llama ") and r["model_type"].endswith(" Q8_0"), r["model_type"]
    assert r["model_n_params"] > 1000000 and r["model_size"] > 0
    assert len(r["samples_ns"]) == 2 and len(r["samples_ts"]) == 2
    assert all(x > 0 for x in r["samples_ns"])
    assert math.isclose(r["avg_ts"], sum(r["samples_ts"]) / 2, rel_tol=1e-5)
    assert math.isclose(r["avg_ns"], sum(r["samples_ns"]) / 2, rel_tol=1e-5, abs_tol=1)
    tokens = r["n_prompt"] or r["n_gen"]
    for ns, ts in zip(r["samples_ns"], r["samples_ts"]):
        assert math.isclose(ts, tokens * 1e9 / ns, rel_tol=1e-4)
    assert r["ttft_ms"] > 0 and r["peak_rss_bytes"] > 1000000
tests = [(r["n_threads"], r["n_prompt"], r["n_gen"]) for r in rows]
assert tests == [(1, 16, 0), (1, 32, 0), (1, 0, 4), (2, 16, 0), (2, 32, 0), (2, 0, 4)], tests
EOF

"$INGOT" bench -m "$M" -p 16 -n 4 -r 1 > "$tmp/b.md" 2> /dev/null
[ $? -eq 0 ] && grep -q '^| model | size | params | backend | threads | test | t/s |$' "$tmp/b.md" &&
  grep -q '| 2 | pp16 | [0-9.]* ± [0-9.]* |$' "$tmp/b.md" && grep -q '| 2 | tg4 | ' "$tmp/b.md" &&
  grep -q '| ttft ms | peak RSS |' "$tmp/b.md" && ok || bad "md: $(cat "$tmp/b.md")"

"$INGOT" bench -m "$M" -p 16 -n 4 -r 1 --ttft-prompt 0 -o csv > "$tmp/b.csv" 2> /dev/null
[ $? -eq 0 ] && [ "$(wc -l < "$tmp/b.csv")" = 3 ] && head -n 1 "$tmp/b.csv" | grep -q '^build_commit,model_filename,' &&
  ok || bad "csv: $(cat "$tmp/b.csv")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
