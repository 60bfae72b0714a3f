#!/usr/bin/env bash
# The benchmark-model synthesizer, shrunken (1 layer, embedding 64) but with
# the real vocabularies: the GGUF tokenizer it writes must give the ids of
# the fixtures' expected.json (produced by transformers.js from the same
# tokenizer.json) for every corpus string; the vocabulary is padded to the
# shape's size with unused [PAD<id>] tokens; the model runs, quantizes to
# Q4_K_M with row-length fallbacks, and the seed makes files reproducible.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
small=(--layers 1 --embd 64 --heads 2 --kv-heads 1 --ff 256 -t 2)

"$INGOT_SYNTH" --help | grep -q "qwen2.5-0.5b" && ok || bad "--help"
"$INGOT_SYNTH" --shape nope -o "$tmp/x.gguf" 2> /dev/null
[ $? -eq 2 ] && ok || bad "unknown shape accepted"

for shape in qwen2.5-0.5b:qwen3:151936 llama3.2-1b:llama3:128256; do
  IFS=: read -r name tok vocab <<< "$shape"
  out="$tmp/$name.gguf"
  "$INGOT_SYNTH" --shape "$name" -o "$out" "${small[@]}" 2> "$tmp/err"
  [ $? -eq 0 ] && [ -s "$out" ] && ok || { bad "$name: $(cat "$tmp/err")"; continue; }
  "$INGOT" show "$out" > "$tmp/show"
  grep -q "^vocabulary *$vocab$" "$tmp/show" && grep -q "^tokenizer *gpt2" "$tmp/show" &&
    grep -q "^chat template yes" "$tmp/show" && ok || bad "$name show: $(cat "$tmp/show")"
  python3 -c '
import json, sys
cases = json.load(open(sys.argv[1]))["cases"]
json.dump([c["text"] for c in cases], open(sys.argv[2], "w"))
json.dump([c["ids"] for c in cases], open(sys.argv[3], "w"))
' "$INGOT_FIXTURES/tokenizers/hf/$tok/expected.json" "$tmp/texts.json" "$tmp/ids.json"
  "$INGOT" tokenize -m "$out" --batch --no-bos < "$tmp/texts.json" > "$tmp/got.json" 2> "$tmp/err"
  python3 -c '
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
assert len(got) == len(want) and not bad, bad
' "$tmp/got.json" "$tmp/ids.json" && ok || bad "$name: GGUF vocabulary tokenizes differently: $(cat "$tmp/err")"
  # Padding: the last id is a [PAD] token (qwen) or a reserved special token (llama3).
  last=$((vocab - 1))
  piece=$("$INGOT" tokenize -m "$out" --detok --text "$last" 2> /dev/null)
  case "$name" in
    qwen*) [ "$piece" = "[PAD$last]" ] && ok || bad "$name: id $last is '$piece', not [PAD$last]" ;;
    *) ok ;;
  esac
  "$INGOT" quantize "$out" "$tmp/$name-q4km.gguf" Q4_K_M -q > /dev/null 2> "$tmp/err" && ok ||
    bad "$name quantize: $(cat "$tmp/err")"
  "$INGOT" eval -m "$tmp/$name-q4km.gguf" --tokens 100,200,300 --greedy 2 --logits-out "$tmp/e" -t 2 \
    > /dev/null 2> "$tmp/err" && [ -s "$tmp/e.prompt.f32" ] && ok || bad "$name eval: $(cat "$tmp/err")"
done

# Same seed, same bytes (whatever the thread count); another seed, other weights.
"$INGOT_SYNTH" --shape llama3.2-1b -o "$tmp/a.gguf" "${small[@]}" --seed 7 2> /dev/null
"$INGOT_SYNTH" --shape llama3.2-1b -o "$tmp/b.gguf" --layers 1 --embd 64 --heads 2 --kv-heads 1 --ff 256 -t 1 \
  --seed 7 2> /dev/null
"$INGOT_SYNTH" --shape llama3.2-1b -o "$tmp/c.gguf" "${small[@]}" --seed 8 2> /dev/null
cmp -s "$tmp/a.gguf" "$tmp/b.gguf" && ok || bad "same seed, different files (1 vs 2 threads)"
"$INGOT" eval -m "$tmp/a.gguf" --tokens 100,200 --greedy 1 --logits-out "$tmp/la" -t 2 > /dev/null 2>&1
"$INGOT" eval -m "$tmp/c.gguf" --tokens 100,200 --greedy 1 --logits-out "$tmp/lc" -t 2 > /dev/null 2>&1
[ -s "$tmp/la.prompt.f32" ] && ! cmp -s "$tmp/la.prompt.f32" "$tmp/lc.prompt.f32" && ok || bad "seeds 7 and 8 give the same logits"
ls "$tmp" | grep -q synth- && bad "scratch files left: $(ls "$tmp")" || ok

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
