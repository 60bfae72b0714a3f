#!/bin/bash
# `ingot template` as a user runs it: every golden case of
# fixtures/chat/golden.json rendered through the command (stdout byte for
# byte, exit 1 + Jinja2's message on stderr where Jinja2 raised), plus
# usage errors, --help, --now and bad input.
set -u
: "${INGOT:?INGOT must point at the ingot binary}"
: "${INGOT_FIXTURES:?INGOT_FIXTURES must point at the shared fixtures}"
fail=0; pass=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
T="$INGOT_FIXTURES/chat/templates"

# --- every golden case through the command
python3 - "$INGOT" "$INGOT_FIXTURES" <<'PY' || fail=$((fail+1))
import json, subprocess, sys
ingot, fx = sys.argv[1], sys.argv[2]
cases = json.load(open(fx + "/chat/golden.json"))
good = 0
for c in cases:
    ctx = {k: c[k] for k in ("messages", "add_generation_prompt", "bos_token", "eos_token") if k in c}
    if "tools" in c: ctx["tools"] = c["tools"]
    r = subprocess.run([ingot, "template", "render", fx + "/chat/templates/" + c["template"],
                        "--now", "2026-01-15T09:30"], input=json.dumps(ctx).encode(), capture_output=True)
    if "expected" in c:
        ok = r.returncode == 0 and r.stdout == c["expected"].encode()
    else:
        msg = c["error"].split(": ", 1)[1]
        ok = r.returncode == 1 and msg in r.stderr.decode() and r.stdout == b""
    if ok: good += 1
    else: print("FAIL: golden %s [%s]: exit %d, stderr %r" % (c["template"], c["case"], r.returncode, r.stderr[:300]), file=sys.stderr)
print("golden cases through the CLI: %d/%d" % (good, len(cases)))
sys.exit(0 if good == len(cases) else 1)
PY
[ $? -eq 0 ] && ok

# --- output is exact: no newline added, trailing text kept
printf '{%% for m in messages %%}[{{ m.content }}]{%% endfor %%}' > "$tmp/t.jinja"
out=$(echo '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}' | "$INGOT" template render "$tmp/t.jinja"; echo "|$?")
[ "$out" = "[a][b]|0" ] && ok || bad "exact output: got '$out'"

# --- --now pins strftime_now
printf '{{ strftime_now("%%Y-%%m-%%d %%H:%%M:%%S %%d %%b %%Y") }}' > "$tmp/now.jinja"
out=$(echo '{}' | "$INGOT" template render "$tmp/now.jinja" --now 2026-01-15T09:30)
[ "$out" = "2026-01-15 09:30:00 15 Jan 2026" ] && ok || bad "--now: got '$out'"
out=$(echo '{}' | "$INGOT" template render "$tmp/now.jinja" --now "2024-02-29 23:59:58")
[ "$out" = "2024-02-29 23:59:58 29 Feb 2024" ] && ok || bad "--now with space: got '$out'"
"$INGOT" template render "$tmp/now.jinja" --now 2026-13-01T00:00 </dev/null >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--now" "$tmp/err" && ok || bad "bad --now: exit $rc"

# --- context from a file, empty context
echo '{"x": [1, 2.0, "s", null, true]}' > "$tmp/ctx.json"
printf '{{ x }}|{{ x|tojson }}|{{ y is defined }}' > "$tmp/x.jinja"
out=$("$INGOT" template render "$tmp/x.jinja" --context "$tmp/ctx.json" </dev/null)
[ "$out" = "[1, 2.0, 's', None, True]|[1, 2.0, \"s\", null, true]|False" ] && ok || bad "--context: got '$out'"
"$INGOT" template render "$tmp/x.jinja" </dev/null >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "Undefined is not JSON serializable" "$tmp/err" && ok || bad "undefined|tojson: exit $rc"

# --- template errors exit 1 with the message; raise_exception's text is kept
printf 'a\n{%% if x %%}\n{%% endfor %%}' > "$tmp/syntax.jinja"
"$INGOT" template render "$tmp/syntax.jinja" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "line 3" "$tmp/err" && grep -q "endfor" "$tmp/err" && [ ! -s "$tmp/out" ] && ok \
  || bad "syntax error: exit $rc, stderr $(cat "$tmp/err")"
"$INGOT" template check "$tmp/syntax.jinja" 2>/dev/null; rc=$?
[ $rc -eq 1 ] && ok || bad "check of a bad template: exit $rc"
"$INGOT" template check "$T/google-gemma-2-2b-it.jinja"; rc=$?
[ $rc -eq 0 ] && ok || bad "check of a good template: exit $rc"
echo '{"messages":[{"role":"system","content":"x"}]}' | "$INGOT" template render "$T/google-gemma-2-2b-it.jinja" \
  >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "System role not supported" "$tmp/err" && ok || bad "raise_exception: exit $rc"
echo '[1,2]' | "$INGOT" template render "$tmp/t.jinja" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "JSON object" "$tmp/err" && ok || bad "context not an object: exit $rc"
echo '{"messages": [' | "$INGOT" template render "$tmp/t.jinja" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -qi "json" "$tmp/err" && ok || bad "malformed context: exit $rc"
"$INGOT" template render "$tmp/missing.jinja" </dev/null >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.jinja" "$tmp/err" && ok || bad "missing file: exit $rc"

# --- a template that would run away is stopped, not hung
printf '{%% for i in range(100000) %%}{%% for j in range(100000) %%}{%% endfor %%}{%% endfor %%}' > "$tmp/loop.jinja"
timeout 60 "$INGOT" template render "$tmp/loop.jinja" </dev/null >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -Eq "steps|memory" "$tmp/err" && ok || bad "runaway loop: exit $rc"

# --- usage
"$INGOT" template --help >"$tmp/out"; rc=$?
[ $rc -eq 0 ] && grep -q "usage: ingot template render" "$tmp/out" && grep -q -- "--now" "$tmp/out" && ok || bad "--help: exit $rc"
"$INGOT" template >/dev/null 2>&1; rc=$?;                  [ $rc -eq 2 ] && ok || bad "no action: exit $rc"
"$INGOT" template render >/dev/null 2>&1; rc=$?;           [ $rc -eq 2 ] && ok || bad "no file: exit $rc"
"$INGOT" template frobnicate x >/dev/null 2>&1; rc=$?;     [ $rc -eq 2 ] && ok || bad "bad action: exit $rc"
"$INGOT" template render x --bogus >/dev/null 2>&1; rc=$?; [ $rc -eq 2 ] && ok || bad "bad option: exit $rc"
"$INGOT" template render x y >/dev/null 2>&1; rc=$?;       [ $rc -eq 2 ] && ok || bad "extra argument: exit $rc"
"$INGOT" --help | grep -q "template" && ok || bad "ingot --help lists template"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
