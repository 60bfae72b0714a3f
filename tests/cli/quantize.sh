#!/usr/bin/env bash
# `ingot quantize` as a user runs it: --help, usage errors (exit 2: no
# arguments, unknown type or option, bad thread count), failures (exit 1:
# quantized or missing input, missing output directory — nothing left
# behind), a Q4_K_M run piped (one line per tensor, a summary) whose file
# has llama-quantize's tensor types and gives the same logits as
# llama-quantize's own file, and the same run in a terminal (script(1)),
# where progress is one line rewritten in place.
set -u
F="$INGOT_FIXTURES/models/synthetic"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

"$INGOT" quantize --help > "$tmp/help"
[ $? -eq 0 ] && grep -q "Q4_K_M" "$tmp/help" && grep -q -- "--pure" "$tmp/help" && ok || bad "--help: $(cat "$tmp/help")"

"$INGOT" quantize > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "usage" "$tmp/err" && ok || bad "no arguments: $(cat "$tmp/err")"

"$INGOT" quantize "$F/llama-f32.gguf" "$tmp/o.gguf" Q4_K_Z 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "unknown type 'Q4_K_Z'" "$tmp/err" && grep -q "Q8_0" "$tmp/err" && ok ||
  bad "unknown type: $(cat "$tmp/err")"

"$INGOT" quantize "$F/llama-f32.gguf" "$tmp/o.gguf" Q8_0 --frobnicate 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "unknown option" "$tmp/err" && ok || bad "unknown option: $(cat "$tmp/err")"

"$INGOT" quantize "$F/llama-f32.gguf" "$tmp/o.gguf" Q8_0 -t 0 2> "$tmp/err"
[ $? -eq 2 ] && ok || bad "-t 0: $(cat "$tmp/err")"

"$INGOT" quantize "$F/llama-Q8_0-pure.gguf" "$tmp/o.gguf" Q4_K_M 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "already quantized" "$tmp/err" && ok || bad "quantized input: $(cat "$tmp/err")"

"$INGOT" quantize "$tmp/missing.gguf" "$tmp/o.gguf" Q8_0 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "missing.gguf" "$tmp/err" && ok || bad "missing input: $(cat "$tmp/err")"

"$INGOT" quantize "$F/llama-f32.gguf" "$tmp/no/such/dir/o.gguf" Q8_0 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "does not exist" "$tmp/err" && ok || bad "missing output dir: $(cat "$tmp/err")"

[ "$(ls -A "$tmp" | grep -v -e '^help$' -e '^err$')" = "" ] && ok || bad "failed runs left files: $(ls -A "$tmp")"

# Piped: one line per tensor on stderr, the summary on stdout.
"$INGOT" quantize "$F/llama-f32.gguf" "$tmp/q4km.gguf" q4_k_m -t 2 > "$tmp/out" 2> "$tmp/err"
[ $? -eq 0 ] && ok || bad "Q4_K_M exit: $(cat "$tmp/err")"
[ "$(grep -c '^\[[ 0-9]*/21\]' "$tmp/err")" = 21 ] && ok || bad "progress lines: $(cat "$tmp/err")"
grep -q '^\[16/21\] blk.1.attn_v.weight .* F32 *-> Q6_K' "$tmp/err" && ok || bad "attn_v line: $(cat "$tmp/err")"
grep -q "wrote $tmp/q4km.gguf (Q4_K_M): 21 tensors (16 converted, 5 kept)" "$tmp/out" && ok ||
  bad "summary: $(cat "$tmp/out")"
ls "$tmp" | grep -q -e scratch -e tmp- && bad "scratch files left: $(ls "$tmp")" || ok

# Same tensor types as llama-quantize's file, and the same logits.
"$INGOT" show "$tmp/q4km.gguf" | grep -E '^  (F32|Q4_K|Q6_K) ' > "$tmp/types.ours"
"$INGOT" show "$F/llama-Q4_K_M.gguf" | grep -E '^  (F32|Q4_K|Q6_K) ' > "$tmp/types.ref"
[ -s "$tmp/types.ours" ] && cmp -s "$tmp/types.ours" "$tmp/types.ref" && ok ||
  bad "types: $(cat "$tmp/types.ours") vs $(cat "$tmp/types.ref")"
T=1,5,9,23,44,61,100,200
"$INGOT" eval -m "$tmp/q4km.gguf" --tokens $T --greedy 4 --logits-out "$tmp/ours" -t 2 > /dev/null 2>&1
"$INGOT" eval -m "$F/llama-Q4_K_M.gguf" --tokens $T --greedy 4 --logits-out "$tmp/ref" -t 2 > /dev/null 2>&1
[ -s "$tmp/ours.prompt.f32" ] && cmp -s "$tmp/ours.prompt.f32" "$tmp/ref.prompt.f32" &&
  cmp -s "$tmp/ours.gen.f32" "$tmp/ref.gen.f32" && ok || bad "logits differ from llama-quantize's file"

# --pure: every 2-D tensor in the base type.
"$INGOT" quantize "$F/llama-f32.gguf" "$tmp/pure.gguf" Q4_K_M --pure -q > "$tmp/out" 2> "$tmp/err"
[ $? -eq 0 ] && [ ! -s "$tmp/err" ] && ok || bad "--pure -q: $(cat "$tmp/err")"
"$INGOT" show "$tmp/pure.gguf" | grep -q '^  Q4_K *16 tensors' && ok || bad "--pure types: $("$INGOT" show "$tmp/pure.gguf")"

# In a terminal: one line rewritten with carriage returns, then the summary.
script -qec "\"$INGOT\" quantize \"$F/llama-f32.gguf\" \"$tmp/tty.gguf\" Q8_0" /dev/null > "$tmp/tty" 2>&1
[ $? -eq 0 ] && ok || bad "terminal run: $(cat "$tmp/tty")"
[ "$(tr -cd '\r' < "$tmp/tty" | wc -c)" -ge 21 ] && ok || bad "terminal: no in-place updates"
grep -q "wrote $tmp/tty.gguf (Q8_0)" "$tmp/tty" && ok || bad "terminal summary: $(cat -v "$tmp/tty")"
[ -s "$tmp/tty.gguf" ] && ok || bad "terminal run wrote nothing"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
