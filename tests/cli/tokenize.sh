#!/usr/bin/env bash
# `ingot tokenize` as a user runs it: ids for known strings (from Hugging
# Face / llama.cpp references in the fixtures), --batch both ways, --detok,
# --pieces, stdin, and clear failures with the right exit codes.
set -u
: "${INGOT:?}" "${INGOT_FIXTURES:?}"
TK="$INGOT_FIXTURES/tokenizers"
STORIES="$INGOT_FIXTURES/models/real/stories260K.gguf"
fail=0
pass=0

check() { # name, expected, actual
    if [ "$2" == "$3" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf 'FAIL %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3" >&2
    fi
}

# run CMD...: sets out, err, rc
run() {
    local e
    e=$(mktemp)
    out=$("$@" 2>"$e")
    rc=$?
    err=$(cat "$e")
    rm -f "$e"
}

# The documented prompt of stories260K, BOS included, straight from the GGUF.
run "$INGOT" tokenize -m "$STORIES" --text "Once upon a time"
check "stories ids" "[1, 403, 407, 261, 378]" "$out"
check "stories rc" 0 "$rc"
run "$INGOT" tokenize -m "$STORIES" --no-bos --text "Once upon a time"
check "stories --no-bos" "[403, 407, 261, 378]" "$out"

# stdin
out=$(printf 'Once upon a time' | "$INGOT" tokenize --tokenizer "$STORIES")
check "stdin" "[1, 403, 407, 261, 378]" "$out"

# --detok: ids back to text, in the three accepted spellings
run "$INGOT" tokenize -m "$STORIES" --detok --text "1 403 407 261 378"
# as Hugging Face decodes it: the space after <s> stays (only a leading one goes)
check "detok spaces" "<s> Once upon a time" "$out"
run "$INGOT" tokenize -m "$STORIES" --detok --text "[403, 407, 261, 378]"
check "detok json" "Once upon a time" "$out"

# qwen3 tokenizer.json: ids from transformers.js (expected.json)
Q3="$TK/hf/qwen3/tokenizer.json"
run "$INGOT" tokenize --tokenizer "$Q3" --text "Hello world"
check "qwen3 hello" "[9707, 1879]" "$out"
run "$INGOT" tokenize --tokenizer "$TK/hf/qwen3" --batch --no-bos --text '["Hello world", " Hello world", "Hello  world", ""]'
check "qwen3 batch" "[[9707, 1879], [21927, 1879], [9707, 220, 1879], []]" "$out"
run "$INGOT" tokenize --tokenizer "$Q3" --batch --detok --text '[[9707, 1879], [21927, 1879], []]'
check "qwen3 batch detok" '["Hello world", " Hello world", ""]' "$out"

# special tokens: parsed by default, plain text with --no-special
run "$INGOT" tokenize --tokenizer "$Q3" --text "<|im_end|>"
check "special parsed" "[151645]" "$out"
run "$INGOT" tokenize --tokenizer "$Q3" --no-special --text "<|im_end|>"
[ "$out" != "[151645]" ] && [ "$rc" == 0 ]
check "special as text" 0 $?

# every corpus string through --batch against expected.json (llama3, gemma3)
for name in llama3 gemma3; do
    want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([c["ids"] for c in d["cases"]]))' "$TK/hf/$name/expected.json" 2>/dev/null)
    texts=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([c["text"] for c in d["cases"]]))' "$TK/hf/$name/expected.json" 2>/dev/null)
    if [ -n "$want" ]; then
        got=$(printf '%s' "$texts" | "$INGOT" tokenize --tokenizer "$TK/hf/$name/tokenizer.json" --batch --no-bos |
            python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))')
        check "$name batch = expected.json" "$want" "$got"
    fi
done

# --pieces shows each token's text
run "$INGOT" tokenize --tokenizer "$Q3" --pieces --text "Hello world"
check "pieces" '    9707  "Hello"
    1879  " world"' "$out"
# a character split over byte tokens is shown as bytes
run "$INGOT" tokenize -m "$TK/gguf-vocab/ggml-vocab-llama-spm.gguf" --no-bos --pieces --text "😀"
echo "$out" | grep -q "0xF0" 
check "pieces byte fragment" 0 $?

# usage errors: exit 2 with a message
run "$INGOT" tokenize --text hi
check "no tokenizer rc" 2 "$rc"
echo "$err" | grep -q -- "--tokenizer"
check "no tokenizer message" 0 $?
run "$INGOT" tokenize --tokenizer "$Q3" --bogus
check "bad flag rc" 2 "$rc"
echo "$err" | grep -q "unknown option '--bogus'"
check "bad flag message" 0 $?
run "$INGOT" tokenize --tokenizer "$Q3" --text
check "missing value rc" 2 "$rc"
run "$INGOT" tokenize -m "$STORIES" --tokenizer "$Q3" --text hi
check "both sources rc" 2 "$rc"
run "$INGOT" tokenize --help
check "help rc" 0 "$rc"
echo "$out" | grep -q -- "--batch"
check "help teaches --batch" 0 $?

# failures: exit 1 with a message naming the problem
run "$INGOT" tokenize --tokenizer /nonexistent/tok.json --text hi
check "missing file rc" 1 "$rc"
echo "$err" | grep -q "/nonexistent/tok.json"
check "missing file named" 0 $?
run "$INGOT" tokenize -m "$INGOT_FIXTURES/README.md" --text hi
check "not a tokenizer rc" 1 "$rc"
run "$INGOT" tokenize --tokenizer "$Q3" --batch --text '{"not": "an array"}'
check "batch not array rc" 1 "$rc"
run "$INGOT" tokenize --tokenizer "$Q3" --batch --text '["ok", 5]'
check "batch bad element rc" 1 "$rc"
check "batch bad element no output" "" "$out"
run "$INGOT" tokenize --tokenizer "$Q3" --detok --text "1 2 99999999"
check "detok out of range rc" 1 "$rc"
echo "$err" | grep -q "99999999"
check "detok out of range named" 0 $?

# invalid UTF-8 on stdin is encoded as U+FFFD, not a crash
out=$(printf 'a\xffb' | "$INGOT" tokenize --tokenizer "$Q3")
rc=$?
check "invalid utf8 rc" 0 "$rc"
want=$(printf 'a\xef\xbf\xbdb' | "$INGOT" tokenize --tokenizer "$Q3")
check "invalid utf8 as U+FFFD" "$want" "$out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
