#!/usr/bin/env bash
# `ingot doctor` on this machine: every line checked against the system
# (uname, getconf, /proc/cpuinfo, /proc/meminfo), MLX unavailable with the
# reason, auto picking cpu, the fallback chain with each remote's real
# reachability (a fake server up on 127.0.0.1, a port that is closed), the
# model cache's location and size, the config file; and a bad config
# reported as `config` reports it.
set -u
[ -x "${INGOT:-}" ] || { echo "FAIL: INGOT='${INGOT:-}' is not an executable" >&2; exit 1; }
[ -x "${FAKE_SERVER:-}" ] || { echo "FAIL: FAKE_SERVER='${FAKE_SERVER:-}' is not an executable" >&2; exit 1; }
tmp=$(mktemp -d)
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

for v in $(env | sed -n 's/^\(INGOT_[A-Z_]*\)=.*/\1/p; s/^\(OLLAMA_HOST\)=.*/\1/p'); do
  case $v in INGOT_FIXTURES|INGOT_SRC) ;; *) unset "$v" ;; esac
done
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/xdg" HF_HUB_CACHE="$tmp/cache"
unset HF_HOME
mkdir -p "$HOME"

# a server that is up (prints its port, serves until its stdin closes)
coproc SRV { exec "$FAKE_SERVER"; }
srv_pid=$SRV_PID
port=
read -t 20 -r -u "${SRV[0]}" port || true
trap 'kill "$srv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
[ -n "$port" ] && ok || { bad "the fake server did not start"; echo "$pass passed, $fail failed"; exit 1; }
# and a port that is closed: the fake server's own port once it has stopped is
# not reusable in a portable way, so ask the kernel for one and close it
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$XDG_CONFIG_HOME/ingot"
CFG="$XDG_CONFIG_HOME/ingot/config.json"
cat > "$CFG" <<EOF
{
  "remotes": {
    "lmstudio": {"url": "http://127.0.0.1:$closed/v1"},
    "lab": {"api": "openai", "url": "http://127.0.0.1:$port/v1"}
  },
  "inference": {"fallback": ["cpu", "lmstudio", "ollama", "lab"]}
}
EOF
export OLLAMA_HOST="127.0.0.1:$port"

# a model cache with one model of 10 bytes
snap="$HF_HUB_CACHE/models--test--tiny/snapshots/0123456789abcdef0123456789abcdef01234567"
mkdir -p "$snap" "$HF_HUB_CACHE/models--test--tiny/blobs" "$HF_HUB_CACHE/models--test--tiny/refs"
printf 'hello gguf' > "$HF_HUB_CACHE/models--test--tiny/blobs/abc"
ln -s ../../blobs/abc "$snap/tiny.gguf"
printf 0123456789abcdef0123456789abcdef01234567 > "$HF_HUB_CACHE/models--test--tiny/refs/main"

"$INGOT" doctor --json > "$tmp/j" 2> "$tmp/err"
rc=$?
[ $rc -eq 0 ] && jq -e . "$tmp/j" > /dev/null && ok || bad "doctor --json: exit $rc: $(cat "$tmp/err")"
j() { jq -r "$1" "$tmp/j"; }

# the system, as the system itself says
case $(uname -s) in Linux) os=linux ;; Darwin) os=macos ;; *) os=unknown ;; esac
case $(uname -m) in x86_64|amd64) arch=x86_64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
[ "$(j .system.os)" = "$os" ] && ok || bad "os: $(j .system.os), uname says $os"
[ "$(j .system.arch)" = "$arch" ] && ok || bad "arch: $(j .system.arch), uname says $arch"
[ "$(j .system.cores)" = "$(getconf _NPROCESSORS_ONLN)" ] && ok || bad "cores: $(j .system.cores)"
if [ "$os" = linux ]; then
  [ "$(j .system.ram_bytes)" = "$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)" ] && ok ||
    bad "ram: $(j .system.ram_bytes)"
  [ "$(j .system.apple_silicon)" = false ] && ok || bad "apple_silicon on Linux"
  if [ "$arch" = x86_64 ]; then
    model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | sed 's/^ *//; s/ *$//')
    [ "$(j .system.cpu)" = "$model" ] && ok || bad "cpu: '$(j .system.cpu)', /proc/cpuinfo: '$model'"
    flags=" $(awk -F': ' '/^flags/ { print $2; exit }' /proc/cpuinfo) "
    for f in avx avx2 fma f16c avx512f avx512bw; do
      cpuinfo=no; case $flags in *" $f "*) cpuinfo=yes ;; esac
      ours=no; case " $(j .system.features) " in *" $f "*) ours=yes ;; esac
      [ "$cpuinfo" = "$ours" ] && ok || bad "feature $f: doctor $ours, /proc/cpuinfo $cpuinfo"
    done
  fi
fi

# backends: cpu yes, mlx no and why, each remote as it really is
backend() { jq -r --arg n "$1" ".backends[] | select(.name == \$n) | $2" "$tmp/j"; }
[ "$(backend cpu .available)" = true ] && ok || bad "cpu not available"
[ "$(backend mlx .available)" = false ] && ok || bad "mlx available?"
if [ "$os" = macos ] && [ "$arch" = arm64 ]; then
  why="this build of ingot has no MLX engine"
elif [ "$os" = macos ]; then
  why="MLX needs Apple Silicon; this Mac is $arch"
else
  why="MLX runs only on macOS on Apple Silicon; this is $os $arch"
fi
[ "$(backend mlx .reason)" = "$why" ] && ok || bad "mlx reason: $(backend mlx .reason)"
[ "$(backend ollama .available)" = true ] && ok || bad "ollama (up): $(backend ollama .reason)"
backend ollama .reason | grep -q "^ollama server at http://127.0.0.1:$port, 14 models: tiny-chat:latest" && ok ||
  bad "ollama reason: $(backend ollama .reason)"
[ "$(backend lab .available)" = true ] && [ "$(backend lab .kind)" = remote ] && ok || bad "lab: $(backend lab .reason)"
[ "$(backend lmstudio .available)" = false ] && ok || bad "lmstudio (down) available?"
backend lmstudio .reason | grep -q "^cannot connect to lmstudio at http://127.0.0.1:$closed/v1" && ok ||
  bad "lmstudio reason: $(backend lmstudio .reason)"

# selection: auto picks cpu here, and why
[ "$(j .selection.gguf.strategy)" = auto ] && [ "$(j .selection.gguf.origin)" = default ] && ok || bad "strategy"
[ "$(j '.selection.gguf.steps[0].backend')" = cpu ] && ok || bad "auto does not pick cpu"
[ "$(j '.selection.gguf.steps | map(.backend) | join(",")')" = "cpu,lmstudio,ollama,lab" ] && ok ||
  bad "plan: $(j '.selection.gguf.steps | map(.backend) | join(",")')"
j .selection.gguf.why | grep -q "^auto: " && ok || bad "why: $(j .selection.gguf.why)"
[ "$(j '.fallback | map(.name + "=" + (.available | tostring)) | join(" ")')" = \
  "cpu=true lmstudio=false ollama=true lab=true" ] && ok || bad "fallback: $(j .fallback)"

# cache and config
[ "$(j .cache.path)" = "$HF_HUB_CACHE" ] && [ "$(j .cache.models)" = 1 ] && [ "$(j .cache.bytes)" = 10 ] && ok ||
  bad "cache: $(j .cache)"
[ "$(j .config.file)" = "$CFG" ] && ok || bad "config file: $(j .config.file)"

# the same facts in the report a person reads
"$INGOT" doctor > "$tmp/out" 2> "$tmp/err" && ok || bad "doctor: $(cat "$tmp/err")"
grep -qx "  os          $os" "$tmp/out" && ok || bad "os line"
grep -qx "  cores       $(getconf _NPROCESSORS_ONLN)" "$tmp/out" && ok || bad "cores line"
grep -qx "  mlx        unavailable $why" "$tmp/out" && ok || bad "mlx line: $(grep mlx "$tmp/out")"
grep -q "^  ollama     available   ollama server at http://127.0.0.1:$port" "$tmp/out" && ok || bad "ollama line"
grep -q "^  lmstudio   unreachable cannot connect" "$tmp/out" && ok || bad "lmstudio line"
grep -q "^  picks       cpu for GGUF models: auto: " "$tmp/out" && ok || bad "picks line: $(grep picks "$tmp/out")"
grep -qx "  fallback    cpu -> lmstudio -> ollama -> lab (inference.fallback, $CFG:6)" "$tmp/out" && ok ||
  bad "fallback line: $(grep '  fallback' "$tmp/out")"
grep -qx "    2. lmstudio   unreachable  http://127.0.0.1:$closed/v1" "$tmp/out" && ok || bad "chain line 2"
grep -qx "    3. ollama     available  http://127.0.0.1:$port" "$tmp/out" && ok || bad "chain line 3"
grep -qx "  size        10 B in 1 model" "$tmp/out" && ok || bad "size line"
grep -qx "  cache       $HF_HUB_CACHE" "$tmp/out" && ok || bad "cache line"
grep -qx "  file        $CFG" "$tmp/out" && ok || bad "config line"

# a strategy and a model
"$INGOT" doctor --backend remote > "$tmp/out" && grep -q "^  strategy    remote (--backend)" "$tmp/out" && ok ||
  bad "--backend remote"
"$INGOT" doctor -m ollama://tiny-chat > "$tmp/out" && grep -q "^  model       ollama (the model reference" "$tmp/out" &&
  ok || bad "-m ollama://: $(grep model "$tmp/out")"
HF_HUB_CACHE="$tmp/none" "$INGOT" doctor | grep -qx "  cache       $tmp/none (does not exist yet: no models downloaded)" &&
  ok || bad "absent cache"

# bad settings stop doctor as they stop everything else
printf '{\n  "inference": {"temperature": "warm"}\n}\n' > "$CFG"
"$INGOT" doctor > /dev/null 2> "$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "ingot doctor: $CFG:2: inference.temperature = \"warm\"" "$tmp/err" && ok ||
  bad "bad config: exit $rc: $(cat "$tmp/err")"
"$INGOT" doctor --frobnicate > /dev/null 2>&1
[ $? -eq 2 ] && ok || bad "unknown option"

eval "exec ${SRV[1]}>&-"
wait "$srv_pid"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
