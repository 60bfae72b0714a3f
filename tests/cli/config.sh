#!/usr/bin/env bash
# `ingot config` as a user meets it: where the file lives, `init` writing a
# documented file and refusing to overwrite it without --force, `show` with
# every setting's value and origin, the precedence defaults < file <
# environment < flags, and every kind of bad setting reported with the key,
# the value and where it came from (file:line, variable or flag).
set -u
[ -x "${INGOT:-}" ] || { echo "FAIL: INGOT='${INGOT:-}' is not an executable" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

# A clean environment: no settings from the machine running the tests.
for v in $(env | sed -n 's/^\(INGOT_[A-Z_]*\)=.*/\1/p; s/^\(OLLAMA_HOST\)=.*/\1/p'); do
  case $v in INGOT_FIXTURES|INGOT_SRC) ;; *) unset "$v" ;; esac
done
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/xdg"
mkdir -p "$HOME"
CFG="$XDG_CONFIG_HOME/ingot/config.json"

# the value and origin columns of one setting in `config show`
row() { "$INGOT" config show "${@:2}" 2>"$tmp/err" | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ +/, ""); print }'; }

[ "$("$INGOT" config path)" = "$CFG" ] && ok || bad "config path: $("$INGOT" config path)"
XDG_CONFIG_HOME= "$INGOT" config path | grep -qx "$HOME/.config/ingot/config.json" && ok || bad "path without XDG_CONFIG_HOME"

# no file: everything from the defaults
"$INGOT" config show > "$tmp/out" 2> "$tmp/err" && ok || bad "show: $(cat "$tmp/err")"
grep -q "^config file: $CFG (not present" "$tmp/out" && ok || bad "show names the absent file: $(head -1 "$tmp/out")"
n_keys=$(grep -c '^[a-z_]*\.[a-z]' "$tmp/out")
n_default=$(grep -c ' default$' "$tmp/out")
[ "$n_keys" -ge 25 ] && [ "$n_keys" = "$n_default" ] && ok || bad "defaults: $n_keys settings, $n_default default"
[ "$(row inference.temperature)" = "0.7 default" ] && ok || bad "temperature default: $(row inference.temperature)"

# init writes a documented file, once
"$INGOT" config init > "$tmp/out" 2> "$tmp/err" && ok || bad "init: $(cat "$tmp/err")"
grep -qx "wrote $CFG" "$tmp/out" && [ -f "$CFG" ] && ok || bad "init wrote: $(cat "$tmp/out")"
grep -q '^ *// .*(env INGOT_TEMPERATURE)' "$CFG" && grep -q '"temperature": 0.7' "$CFG" && ok || bad "init: not documented"
echo '// my edit' >> "$CFG"
"$INGOT" config init > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$CFG already exists; not overwriting it (use --force" "$tmp/err" && ok ||
  bad "init over a file: exit $rc: $(cat "$tmp/err")"
tail -1 "$CFG" | grep -q 'my edit' && ok || bad "init changed the existing file"
"$INGOT" config init --force > /dev/null && ! grep -q 'my edit' "$CFG" && ok || bad "init --force"
"$INGOT" config init "$tmp/other/dir/c.json" > /dev/null && [ -f "$tmp/other/dir/c.json" ] && ok || bad "init FILE"

# the default file holds every setting at its default value, each from its line
line=$(grep -n '"temperature"' "$CFG" | cut -d: -f1)
[ "$(row inference.temperature)" = "0.7 file $CFG:$line" ] && ok || bad "from the file: $(row inference.temperature)"
"$INGOT" config show > "$tmp/out"
[ "$(grep -c '^[a-z_]*\.[a-z]' "$tmp/out")" = "$n_keys" ] && ok || bad "the same settings with the file"
! grep -q '^inference.* default$' "$tmp/out" && ok || bad "inference.* not all from the file: $(grep default "$tmp/out")"

# precedence: defaults < file < environment < flags
cat > "$CFG" <<'EOF'
{
  // a comment
  "inference": {
    "temperature": 0.3,
    "top_k": 5,
    "backend": "cpu"
  }
}
EOF
[ "$(row inference.temperature)" = "0.3 file $CFG:4" ] && ok || bad "file: $(row inference.temperature)"
[ "$(INGOT_TEMPERATURE=0.2 row inference.temperature)" = "0.2 env INGOT_TEMPERATURE" ] && ok ||
  bad "env over file: $(INGOT_TEMPERATURE=0.2 row inference.temperature)"
[ "$(INGOT_TEMPERATURE=0.2 row inference.temperature --set inference.temperature=0.1)" = "0.1 flag --set" ] && ok ||
  bad "flag over env"
[ "$(INGOT_BACKEND=ollama row inference.backend)" = "ollama env INGOT_BACKEND" ] && ok || bad "INGOT_BACKEND"
[ "$(INGOT_BACKEND=ollama row inference.backend --backend lmstudio)" = "lmstudio flag --backend" ] && ok ||
  bad "--backend over INGOT_BACKEND"
[ "$(row inference.top_k)" = "5 file $CFG:5" ] && ok || bad "top_k: $(row inference.top_k)"
[ "$(row inference.top_p)" = "0.9 default" ] && ok || bad "top_p untouched: $(row inference.top_p)"
[ "$(INGOT_TOP_K=9 INGOT_TOP_P=0.5 INGOT_MAX_TOKENS=-1 INGOT_THREADS=2 INGOT_CONTEXT=1024 INGOT_REPEAT_PENALTY=1 \
      INGOT_BENCHMARK=yes INGOT_LOG=debug "$INGOT" config show | grep -c ' env INGOT_')" = 8 ] && ok ||
  bad "every INGOT_ variable is read"
[ "$(OLLAMA_HOST=example.com:1234 row remotes.ollama.url)" = "http://example.com:1234 env OLLAMA_HOST" ] && ok ||
  bad "OLLAMA_HOST: $(OLLAMA_HOST=example.com:1234 row remotes.ollama.url)"
[ "$(row inference.temperature --config "$tmp/other/dir/c.json")" = "0.7 file $tmp/other/dir/c.json:$line" ] && ok ||
  bad "--config FILE"
[ "$(INGOT_API_KEY=sk-secret row network.api_key)" = "******** env INGOT_API_KEY" ] && ok || bad "secrets are masked"

# --json
"$INGOT" config show --json > "$tmp/out" 2> "$tmp/err"
jq -e --arg f "$CFG" '.file == $f and (.settings[] | select(.key == "inference.top_k") |
  .value == "5" and .source == "file" and .origin == ($f + ":5") and .env == "INGOT_TOP_K")' "$tmp/out" > /dev/null &&
  ok || bad "--json: $(head -c 400 "$tmp/out")"

# bad settings, as the user meets them: exit 1 (file, environment) or 2 (flags)
expect() { # expect CODE "message" command...
  local code=$1 msg=$2
  shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  [ $rc -eq "$code" ] && grep -qF -- "$msg" "$tmp/err" && ok ||
    bad "$*: exit $rc (want $code), stderr: $(cat "$tmp/err") (want: $msg)"
}
printf '{\n  "inference": {\n    "temprature": 0.5\n  }\n}\n' > "$CFG"
expect 1 "ingot config: $CFG:3: unknown setting inference.temprature = 0.5 (did you mean inference.temperature?)" \
  "$INGOT" config show
printf '{\n  "inference": {\n    "top_p": "high"\n  }\n}\n' > "$CFG"
expect 1 "$CFG:3: inference.top_p = \"high\": expected a number between 0 and 1 (without quotes)" "$INGOT" config show
printf '{\n  "inference": {"threads": -4}\n}\n' > "$CFG"
expect 1 "$CFG:2: inference.threads = -4: expected an integer between 0 and 1024" "$INGOT" config show
printf '{\n  "inference": {\n    "top_k": 5,\n  }\n}\n' > "$CFG"
expect 1 "$CFG:4:" "$INGOT" config show
expect 1 "not valid JSON" "$INGOT" config show
printf '{"remotes": {"box": {"api": "openai"}}}' > "$CFG"
expect 1 "remote 'box' has no url" "$INGOT" config show
printf '{\n"inference": {\n"backend": "tpu"}}' > "$CFG"
expect 1 "$CFG:3: inference.backend = 'tpu': expected auto, cpu, gguf, mlx, remote or a configured remote (lmstudio, ollama)" \
  "$INGOT" config show
rm "$CFG"
expect 1 "environment variable INGOT_TOP_P: inference.top_p = '2': expected a number between 0 and 1" \
  env INGOT_TOP_P=2 "$INGOT" config show
expect 1 "environment variable INGOT_TEMPERATURE: inference.temperature = 'warm': expected a number >= 0" \
  env INGOT_TEMPERATURE=warm "$INGOT" config show
expect 1 "environment variable INGOT_BENCHMARK: inference.benchmark_on_startup = 'sometimes': expected true or false" \
  env INGOT_BENCHMARK=sometimes "$INGOT" config show
expect 1 "environment variable INGOT_LOG: log.level = 'loud': expected one of error, warn, info, debug" \
  env INGOT_LOG=loud "$INGOT" config show
expect 1 "environment variable INGOT_BACKEND: inference.backend = 'cuda'" env INGOT_BACKEND=cuda "$INGOT" config show
expect 1 "environment variable OLLAMA_HOST: remotes.ollama.url = 'ftp://x'" env OLLAMA_HOST=ftp://x "$INGOT" config show
expect 2 "ingot config: --set: inference.top_k = '-1': expected an integer >= 0" \
  "$INGOT" config show --set inference.top_k=-1
expect 2 "--set: unknown setting inference.topk = '3' (did you mean inference.top_k?)" \
  "$INGOT" config show --set inference.topk=3
expect 2 "--backend: inference.backend = 'nosuch'" "$INGOT" config show --backend nosuch
expect 2 "--set expects KEY=VALUE" "$INGOT" config show --set novalue
expect 1 "cannot open config file $tmp/none.json" "$INGOT" config show --config "$tmp/none.json"
expect 2 "unknown subcommand 'edit'" "$INGOT" config edit
expect 2 "unknown option '--yaml'" "$INGOT" config show --yaml
"$INGOT" config --help | grep -q "ingot config show" && ok || bad "--help"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
