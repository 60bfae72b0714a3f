#!/usr/bin/env bash
# `ingot eval` and `ingot show` as a user runs them: outputs in the parity
# fixture format (checked against llama.cpp's reference for stories260K),
# --json, and every kind of bad input: a clear message, the right exit
# code, never a crash.
set -u
F="$INGOT_FIXTURES"
M="$F/models/real/stories260K.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
# expect CODE PATTERN -- CMD...: exit code and a stderr message matching PATTERN
expect() {
  local code=$1 pat=$2; shift 3
  "$@" > "$tmp/o" 2> "$tmp/e"
  local rc=$?
  if [ $rc -ne "$code" ]; then bad "$* -> exit $rc (want $code): $(cat "$tmp/e")"; return; fi
  if [ $rc -ge 128 ]; then bad "$* crashed"; return; fi
  grep -qE -- "$pat" "$tmp/e" && ok || bad "$* -> stderr lacks /$pat/: $(cat "$tmp/e")"
}

# eval: 200 greedy tokens of stories260K equal llama.cpp's, files sized right
"$INGOT" eval -m "$M" --tokens 1,403,407,261,378 --greedy 200 --logits-out "$tmp/s" > "$tmp/o" 2> "$tmp/e" &&
  ok || bad "eval failed: $(cat "$tmp/e")"
want=$(tr -d ' \n' < "$F/parity/ref-stories260K.json" | sed 's/.*"greedy":\[\([0-9,]*\)\].*/\1/')
got=$(tr -d ' \n' < "$tmp/s.json" | sed 's/.*"greedy":\[\([0-9,]*\)\].*/\1/')
[ -n "$want" ] && [ "$want" = "$got" ] && ok || bad "greedy ids differ: $got"
[ "$(stat -c %s "$tmp/s.prompt.f32")" = $((5 * 512 * 4)) ] && ok || bad "prompt.f32 size"
[ "$(stat -c %s "$tmp/s.gen.f32")" = $((200 * 512 * 4)) ] && ok || bad "gen.f32 size"
grep -q '"model": "stories260K.gguf", "n_vocab": 512, "prompt": \[1, 403, 407, 261, 378\]' "$tmp/s.json" &&
  ok || bad "json header: $(head -c 200 "$tmp/s.json")"
# --feed writes the fed ids and one row per fed token; threads do not change results
"$INGOT" eval -m "$M" --tokens 1,403 --feed 407,261,378 -t 1 --logits-out "$tmp/f1" > /dev/null 2>&1 &&
  "$INGOT" eval -m "$M" --tokens 1,403 --feed 407,261,378 -t 2 --logits-out "$tmp/f2" > /dev/null 2>&1 && ok ||
  bad "eval --feed failed"
grep -q '"greedy": \[407, 261, 378\]' "$tmp/f1.json" && ok || bad "feed ids: $(cat "$tmp/f1.json")"
cmp -s "$tmp/f1.gen.f32" "$tmp/f2.gen.f32" && cmp -s "$tmp/f1.prompt.f32" "$tmp/f2.prompt.f32" && ok ||
  bad "1 and 2 threads differ"
[ "$(stat -c %s "$tmp/f1.gen.f32")" = $((3 * 512 * 4)) ] && ok || bad "feed gen.f32 size"
"$INGOT" eval --help | grep -q -- "--logits-out" && ok || bad "eval --help"

# eval: bad usage (exit 2) and failures (exit 1)
expect 2 "missing -m" -- "$INGOT" eval --tokens 1 --logits-out "$tmp/x"
expect 2 "missing --tokens" -- "$INGOT" eval -m "$M" --logits-out "$tmp/x"
expect 2 "missing --logits-out" -- "$INGOT" eval -m "$M" --tokens 1
expect 2 "non-negative integers" -- "$INGOT" eval -m "$M" --tokens 1,x --logits-out "$tmp/x"
expect 2 "cannot be used together" -- "$INGOT" eval -m "$M" --tokens 1 --feed 2 --greedy 3 --logits-out "$tmp/x"
expect 2 "unknown option '--bogus'" -- "$INGOT" eval -m "$M" --tokens 1 --bogus --logits-out "$tmp/x"
expect 2 "--threads must be between" -- "$INGOT" eval -m "$M" --tokens 1 -t 0 --logits-out "$tmp/x"
expect 2 "needs a value" -- "$INGOT" eval -m "$M" --tokens 1 --logits-out
expect 1 "outside the vocabulary" -- "$INGOT" eval -m "$M" --tokens 1,999999 --logits-out "$tmp/x"
expect 1 "do not fit in the context" -- "$INGOT" eval -m "$M" --tokens 1,2,3 --greedy 10 -c 4 --logits-out "$tmp/x"
expect 1 "no-such-file.gguf" -- "$INGOT" eval -m "$tmp/no-such-file.gguf" --tokens 1 --logits-out "$tmp/x"
expect 1 "cannot write" -- "$INGOT" eval -m "$M" --tokens 1 --logits-out "$tmp/no/dir/x"
head -c 100000 "$M" > "$tmp/trunc.gguf"
expect 1 "trunc.gguf" -- "$INGOT" eval -m "$tmp/trunc.gguf" --tokens 1 --logits-out "$tmp/x"
printf 'not a gguf file at all' > "$tmp/junk.gguf"
expect 1 "junk.gguf.*magic" -- "$INGOT" eval -m "$tmp/junk.gguf" --tokens 1 --logits-out "$tmp/x"
expect 1 "vocab-only|missing tensor|architecture" -- "$INGOT" eval -m "$F/tokenizers/gguf-vocab/ggml-vocab-gpt-2.gguf" --tokens 1 --logits-out "$tmp/x"

# show: text and JSON
"$INGOT" show "$M" > "$tmp/o" 2> "$tmp/e" && ok || bad "show failed: $(cat "$tmp/e")"
for pat in "architecture +llama" "layers +5" "heads +8 \(kv 4, head dim 8\)" "context +2048" "vocabulary +512" \
           "tokenizer +llama" "chat template +no" "F32 +48 tensors" "parameters +292.80K"; do
  grep -qE "$pat" "$tmp/o" && ok || bad "show lacks /$pat/: $(cat "$tmp/o")"
done
"$INGOT" show "$F/models/synthetic/llama-Q4_K_M.gguf" --json > "$tmp/j" 2> "$tmp/e" && ok || bad "show --json failed"
grep -q '"architecture": "llama"' "$tmp/j" && grep -q '"type": "Q4_K"' "$tmp/j" && grep -q '"type": "Q6_K"' "$tmp/j" &&
  grep -q '"n_layer": 2' "$tmp/j" && ok || bad "show --json content: $(cat "$tmp/j")"
if command -v python3 > /dev/null; then
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/j" && ok || bad "show --json is not JSON"
fi
for m in gemma3-Q8_0 phi3-Q4_K_M qwen2-Q8_0 qwen3-Q4_K_M; do
  "$INGOT" show "$F/models/synthetic/$m.gguf" > "$tmp/o" 2>&1 && grep -q "architecture  ${m%%-*}" "$tmp/o" && ok ||
    bad "show $m: $(cat "$tmp/o")"
done
expect 2 "missing MODEL" -- "$INGOT" show
expect 2 "unknown option" -- "$INGOT" show --frobnicate "$M"
expect 1 "no-such" -- "$INGOT" show "$tmp/no-such.gguf"
expect 1 "trunc.gguf" -- "$INGOT" show "$tmp/trunc.gguf"
expect 2 "unknown command" -- "$INGOT" frobnicate

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
