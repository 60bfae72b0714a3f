#!/usr/bin/env bash
# `ingot bench --backends`: the same greedy generation on the cpu backend
# (stories260K), on a live Ollama-speaking server and on an OpenAI one (the
# fake server), and on a remote that is down; one table / JSON with a row
# per backend, the down one reported with its reason and exit status 1.
set -u
[ -x "${INGOT:-}" ] || { echo "FAIL: INGOT='${INGOT:-}' is not an executable" >&2; exit 1; }
[ -x "${FAKE_SERVER:-}" ] || { echo "FAIL: FAKE_SERVER='${FAKE_SERVER:-}' is not an executable" >&2; exit 1; }
M="$INGOT_FIXTURES/models/real/stories260K.gguf"
tmp=$(mktemp -d)
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
for v in $(env | sed -n 's/^\(INGOT_[A-Z_]*\)=.*/\1/p; s/^\(OLLAMA_HOST\)=.*/\1/p'); do
  case $v in INGOT_FIXTURES|INGOT_SRC) ;; *) unset "$v" ;; esac
done
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/xdg" HF_HUB_OFFLINE=1
mkdir -p "$HOME"
coproc SRV { exec "$FAKE_SERVER"; }
srv_pid=$SRV_PID
port=
read -t 20 -r -u "${SRV[0]}" port || true
trap 'kill "$srv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
[ -n "$port" ] && ok || { bad "the fake server did not start"; echo "$pass passed, $fail failed"; exit 1; }
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
export OLLAMA_HOST="127.0.0.1:$port"

"$INGOT" bench --backends "cpu=$M,ollama=tiny-chat,openai+http://127.0.0.1:$port/v1#tiny-chat" -n 16 -r 1 -o json \
  > "$tmp/j" 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && jq -e . "$tmp/j" > /dev/null && ok || bad "exit $rc: $(cat "$tmp/err")"
r() { jq -r --arg b "$1" ".results[] | select(.backend == \$b) | $2" "$tmp/j"; }
[ "$(r cpu .ok)" = true ] && [ "$(r cpu .generated_tokens)" = 16 ] && ok || bad "cpu row: $(r cpu .)"
[ "$(jq -r '.results[0].backend' "$tmp/j")" = cpu ] && ok || bad "rows in the order given"
awk -v p="$(r cpu .peak_rss_mb)" 'BEGIN { exit !(p > 0) }' && ok || bad "cpu peak memory"
[ "$(r ollama .ok)" = true ] && [ "$(r ollama .prompt_tokens)" = 7 ] && [ "$(r ollama .model)" = tiny-chat:latest ] && ok ||
  bad "ollama row: $(r ollama .)"
[ "$(r ollama .peak_rss_mb)" = null ] && ok || bad "a server's memory is not claimed"
[ "$(r openai+http .ok)" = true ] && ok || bad "openai row: $(r openai+http .)"
[ "$(jq -r .n_gen "$tmp/j")" = 16 ] && ok || bad "n_gen"

OLLAMA_HOST="127.0.0.1:$closed" "$INGOT" bench --backends "cpu=$M,ollama=tiny-chat" -n 8 -r 1 > "$tmp/out" 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] && ok || bad "a down backend: exit $rc"
grep -q '^| backend | model | prompt tokens | generated | TTFT ms | prompt tok/s | gen tok/s | total ms | peak MB |$' \
  "$tmp/out" && ok || bad "table header: $(head -1 "$tmp/out")"
grep -q '^| cpu | stories260K.gguf | [0-9]* | 8 | ' "$tmp/out" && ok || bad "cpu row: $(grep cpu "$tmp/out")"
grep -q "^| ollama | tiny-chat | failed: .*cannot connect to ollama at http://127.0.0.1:$closed" "$tmp/out" && ok ||
  bad "ollama row: $(grep ollama "$tmp/out")"

"$INGOT" bench --backends cpu -n 8 > /dev/null 2> "$tmp/err"
[ $? -eq 2 ] && grep -q "'cpu' has no model" "$tmp/err" && ok || bad "no model: $(cat "$tmp/err")"
"$INGOT" bench --backends "cpu=$M" -o csv > /dev/null 2>&1
[ $? -eq 2 ] && ok || bad "-o csv with --backends"

eval "exec ${SRV[1]}>&-"
wait "$srv_pid"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
