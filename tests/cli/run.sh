#!/usr/bin/env bash
# `ingot run` as a user runs it: the documented greedy continuation of
# stories260K (fixtures README) from -p, -f and stdin; --json that parses;
# --stop; --verbose on stderr only; same seed -> same text at 1 and 2
# threads; a full context; bad flags (exit 2) and a missing model (exit 1).
set -u
[ -x "${INGOT:-}" ] || { echo "FAIL: INGOT='${INGOT:-}' is not an executable" >&2; exit 1; }
M="$INGOT_FIXTURES/models/real/stories260K.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

# The fixtures README's JSON string, decoded: 64 greedy tokens.
printf '%s' ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.
Lily's mom said" > "$tmp/expected"

"$INGOT" run -m "$M" -p "Once upon a time" --temp 0 -n 64 > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok || bad "-p: exit $rc: $(cat "$tmp/err")"
cmp -s "$tmp/expected" "$tmp/out" && ok || bad "-p: output differs: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] && ok || bad "-p: unexpected stderr: $(cat "$tmp/err")"

"$INGOT" run -m "$M" "Once upon a time" --temp 0 -n 64 > "$tmp/out" 2> "$tmp/err" && cmp -s "$tmp/expected" "$tmp/out" && ok ||
  bad "plain-argument prompt: $(cat "$tmp/out" "$tmp/err")"

printf '%s' "Once upon a time" > "$tmp/prompt"
"$INGOT" run -m "$M" -f "$tmp/prompt" --temp 0 -n 64 > "$tmp/out" && cmp -s "$tmp/expected" "$tmp/out" && ok ||
  bad "-f: $(cat "$tmp/out")"
"$INGOT" run -m "$M" --temp 0 -n 64 < "$tmp/prompt" > "$tmp/out" && cmp -s "$tmp/expected" "$tmp/out" && ok ||
  bad "stdin: $(cat "$tmp/out")"
"$INGOT" run -m "$M" -f - --temp 0 -n 64 < "$tmp/prompt" > "$tmp/out" && cmp -s "$tmp/expected" "$tmp/out" && ok ||
  bad "-f -: $(cat "$tmp/out")"
# the final newline of a file or a pipe is not part of the prompt
echo "Once upon a time" | "$INGOT" run -m "$M" --temp 0 -n 64 > "$tmp/out" && cmp -s "$tmp/expected" "$tmp/out" && ok ||
  bad "echo | run: $(cat "$tmp/out")"

# --verbose: metrics on stderr, stdout unchanged
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0 -n 64 --verbose > "$tmp/out" 2> "$tmp/err"
cmp -s "$tmp/expected" "$tmp/out" && ok || bad "--verbose changed stdout"
grep -q "prompt: *5 tokens (0 reused)" "$tmp/err" && grep -q "generation: *64 tokens" "$tmp/err" &&
  grep -q "finish: *length" "$tmp/err" && ok || bad "--verbose stderr: $(cat "$tmp/err")"

# --json: one object with the text and the metrics
json_get() { # FILE EXPR (python syntax on the parsed object `o`)
  if command -v python3 > /dev/null; then
    python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); sys.stdout.write(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"
  else
    return 77
  fi
}
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0 -n 64 --json > "$tmp/json"
if command -v python3 > /dev/null; then
  json_get "$tmp/json" 'o["text"]' > "$tmp/jtext" && cmp -s "$tmp/expected" "$tmp/jtext" && ok || bad "--json text: $(cat "$tmp/json")"
  [ "$(json_get "$tmp/json" 'o["finish_reason"]')" = length ] && ok || bad "--json finish_reason"
  [ "$(json_get "$tmp/json" '[o["metrics"][k] for k in ("prompt_tokens","reused_tokens","generated_tokens")]')" = "[5, 0, 64]" ] &&
    ok || bad "--json token counts: $(cat "$tmp/json")"
  [ "$(json_get "$tmp/json" 'all(o["metrics"][k] >= 0 for k in ("load_ms","ttft_ms","prompt_tps","gen_tps","total_ms","peak_rss_mb"))')" = true ] &&
    ok || bad "--json timings: $(cat "$tmp/json")"
else
  echo "SKIP: python3 not installed, --json not parsed" >&2
  skipped=1
fi

# --stop: the text ends right before the stop string, which spans tokens
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0 -n 64 --stop "no such" --stop "girl named Lily" > "$tmp/out"
[ "$(cat "$tmp/out")" = ", there was a little " ] && ok || bad "--stop: '$(cat "$tmp/out")'"

# sampling: same seed -> same text, at 1 and 2 threads; another seed differs
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0.8 --seed 42 -n 80 -t 1 > "$tmp/s1"
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0.8 --seed 42 -n 80 -t 2 > "$tmp/s2"
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0.8 --seed 43 -n 80 -t 2 > "$tmp/s3"
[ -s "$tmp/s1" ] && cmp -s "$tmp/s1" "$tmp/s2" && ok || bad "seed 42: 1 vs 2 threads differ"
cmp -s "$tmp/s1" "$tmp/s3" && bad "seeds 42 and 43 gave the same text" || ok
cmp -s "$tmp/s1" "$tmp/expected" && bad "--temp 0.8 gave the greedy text" || ok

# a full context: the text so far is printed, then a clear error, exit 1
"$INGOT" run -m "$M" -p "Once upon a time" --temp 0 -n -1 -c 16 > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "context" "$tmp/err" && ok || bad "context full: exit $rc, stderr: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && [ "$(head -c "$(stat -c %s "$tmp/out")" "$tmp/expected")" = "$(cat "$tmp/out")" ] && ok ||
  bad "context full: text '$(cat "$tmp/out")'"

# usage errors exit 2 with a message; a missing model exits 1 naming it
expect_exit() { # CODE PATTERN ARGS...
  local code=$1 pat=$2
  shift 2
  "$INGOT" run "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
  local rc=$?
  [ $rc -eq "$code" ] && grep -q -- "$pat" "$tmp/err" && ok || bad "run $*: exit $rc (want $code), stderr: $(cat "$tmp/err")"
}
expect_exit 2 "unknown option" -m "$M" -p hi --bogus
expect_exit 2 "one prompt only: 'upon'" -m "$M" Once upon --temp 0
expect_exit 2 "one prompt only: 'there'" -m "$M" -p hi there
expect_exit 2 "expects a number" -m "$M" -p hi --temp warm
expect_exit 2 "between 0 and 1" -m "$M" -p hi --top-p 1.5
expect_exit 2 "needs a value" -m "$M" -p hi -n
expect_exit 2 "expects an integer" -m "$M" -p hi -n many
expect_exit 2 "missing -m" -p hi
expect_exit 2 "cannot be used together" -m "$M" -p hi -f "$tmp/prompt"
expect_exit 2 "ID=BIAS" -m "$M" -p hi --logit-bias 5
expect_exit 1 "no-such-model.gguf" -m "$tmp/no-such-model.gguf" -p hi
expect_exit 1 "cannot open" -m "$M" -f "$tmp/no-such-prompt"
printf 'not a gguf file' > "$tmp/bad.gguf"
expect_exit 1 "bad.gguf" -m "$tmp/bad.gguf" -p hi
"$INGOT" run --help | grep -q -- "--repeat-penalty" && ok || bad "--help"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || exit 1
[ -z "${skipped:-}" ] || exit 77
