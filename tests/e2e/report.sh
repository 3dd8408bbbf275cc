#!/usr/bin/env bash
# Issue 17: `runbook report RUN_ID` and `run --report FILE`, rendered by headless Chromium as a
# reader sees them: every step on the timeline (a retried step with a bar per attempt), the
# downtime band, guards with what they observed, the logs in collapsible blocks; no secret and no
# markup from a value anywhere; nothing fetched from a network. Also after a failure, and read from
# the team's store by an operator with an empty state directory.
source "$(dirname "$0")/lib/common.bash"
command -v chromium >/dev/null || fail "chromium is not installed (make deps installs it)"

# Headless Chromium as CI runs it (as root: no sandbox); its profile in the test's directory.
render() {  # render HTML PNG: the DOM after scripts ran to stdout, a screenshot to PNG
  local args=(--no-sandbox --headless --disable-gpu --no-first-run --user-data-dir="$TEST_TMP/chromium"
    --window-size=1200,1000)
  chromium "${args[@]}" --screenshot="$2" "file://$1" >/dev/null 2>&1 || fail "chromium --screenshot $1"
  [ -s "$2" ] || fail "chromium wrote no screenshot of $1"
  chromium "${args[@]}" --dump-dom "file://$1" 2>/dev/null
}

export RB_REPORT_TOKEN="tok-$$-plugh"
cat >"$TEST_TMP/rb.yaml" <<YAML
name: report-e2e
downtime: {from: stop, to: start}
params:
  note: {type: string, default: "<img src=x onerror=alert(1)>"}
  fail_start: {type: boolean, default: false}
secrets:
  token: {env: RB_REPORT_TOKEN}
steps:
  - id: prepare
    env: {TOKEN: "\${{ secrets.token }}", NOTE: "\${{ params.note }}"}
    run: 'echo "prepare says \$TOKEN"; echo "note: \$NOTE </pre><script>document.title=1</script>"'
  - id: stop
    needs: [prepare]
    guards:
      - command: 'test -e "\$F" || { touch "\$F"; exit 1; }'
        wait: 10s
    env: {F: "$TEST_TMP/guard-flag"}
    run: 'sleep 0.3'
  - id: flaky
    needs: [stop]
    retries: 1
    env: {F: "$TEST_TMP/flaky-flag"}
    run: 'if [ ! -e "\$F" ]; then touch "\$F"; echo "first attempt fails"; exit 3; fi; echo "second attempt works"'
  - id: start
    needs: [flaky]
    env: {FAIL: "\${{ params.fail_start }}"}
    run: 'echo "starting"; sleep 0.2; test "\$FAIL" = false'
finally:
  - {id: tidy, run: 'rm -f "\$A" "\$B"', env: {A: "$TEST_TMP/guard-flag", B: "$TEST_TMP/flaky-flag"}}
YAML

# A run before, so the report has expected durations.
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/rb.yaml"
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/rb.yaml" --report "$TEST_TMP/run.html"
grep -q "^report written to $TEST_TMP/run.html$" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "run --report says nothing"; }
run_id=$("$RUNBOOK" history --format json | jq -r '.[-1].run_id')
expect_exit 0 "$RUNBOOK" report "$run_id" -o "$TEST_TMP/report.html"
cmp -s "$TEST_TMP/run.html" "$TEST_TMP/report.html" || fail "run --report and report RUN_ID differ"
(cd "$TEST_TMP" && expect_exit 0 "$RUNBOOK" report "$run_id") && [ -s "$TEST_TMP/$run_id.html" ] ||
  fail "report RUN_ID does not write RUN_ID.html"
[ "$(stat -c %a "$TEST_TMP/report.html")" = 600 ] || fail "the report is readable by others"
ok "run --report and report RUN_ID write the same page"

html="$TEST_TMP/report.html"
! grep -qF "$RB_REPORT_TOKEN" "$html" || fail "the secret's value is in the report"
! grep -qE 'https?://|@import|url\(' <(sed 's|xmlns="http://www.w3.org/2000/svg"||' "$html") || fail "the page names a URL"
dom=$(render "$html" "$TEST_TMP/report.png")
echo "$dom" >"$TEST_TMP/dom.html"
! grep -qF "$RB_REPORT_TOKEN" "$TEST_TMP/dom.html" || fail "the secret is in the rendered page"
# Markup in values stays text: the param and the log line show as written, nothing ran or loaded.
! grep -q '<img' "$TEST_TMP/dom.html" || fail "a param became an element"
grep -qF '&lt;img src=x onerror=alert(1)&gt;' "$TEST_TMP/dom.html" || fail "the param's value is not shown as text"
grep -qF '&lt;/pre&gt;&lt;script&gt;document.title=1&lt;/script&gt;' "$TEST_TMP/dom.html" || fail "a log's markup is not shown as text"
grep -qF '<title>run '"$run_id"' of report-e2e</title>' "$TEST_TMP/dom.html" || fail "a log's script ran (title changed)"
python3 - "$TEST_TMP/dom.html" "$run_id" "$(id -un) on $(hostname)" <<'PY' || fail "the rendered page is not what a reader needs"
import re
import sys
from html.parser import HTMLParser

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.rows, self.bars, self.band, self.text = [], [], {}, False, []
        self.logs, self.in_log, self.guards = {}, None, 0
        self.section = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "")
        # Nothing is fetched: no element that loads, no attribute naming a resource.
        assert tag not in ("link", "img", "iframe", "object", "embed", "audio", "video", "source"), tag
        assert "src" not in a and a.get("href", "#").startswith("#"), (tag, a)
        if tag == "g" and cls == "row":
            self.rows.append(a["data-step"])
        if tag == "rect" and cls in ("bar", "checks") and self.rows:
            self.bars.setdefault(self.rows[-1], []).append((cls, a["fill"]))
        if tag == "g" and cls == "downtime":
            self.band = True
        if tag == "section":
            self.section = a["id"][len("step-"):]
        if tag == "details" and cls == "log":
            self.in_log = self.section
            self.logs[self.section] = ""
        if tag == "table" and cls == "guards":
            self.guards += 1
    def handle_endtag(self, tag):
        if tag == "details":
            self.in_log = None
    def handle_data(self, data):
        self.text.append(data)
        if self.in_log:
            self.logs[self.in_log] += data

p = Page()
p.feed(open(sys.argv[1]).read())
text = " ".join(p.text)
steps = ["prepare", "stop", "flaky", "start", "tidy"]
assert p.rows == steps, p.rows
for s in steps:
    assert any(c == "bar" for c, _ in p.bars.get(s, [])), (s, p.bars.get(s))
flaky = [f for c, f in p.bars["flaky"] if c == "bar"]
assert len(flaky) == 2 and flaky[0] != flaky[1], ("a bar per attempt, failed then succeeded", flaky)
assert ("checks", "#c9ced4") in p.bars["stop"], ("the guard's wait", p.bars["stop"])
assert p.band, "no downtime band"
for word in ("downtime", "expected", sys.argv[2], sys.argv[3], "success", "2 attempts",
             "guards command"):
    assert word in text, word
assert re.search(r"token\s*\*\*\*\s*\(secret\)", text), "the secret is not listed masked"
assert "prepare says ***" in p.logs["prepare"], p.logs.get("prepare")
assert "first attempt fails" in p.logs["flaky"] and "second attempt works" in p.logs["flaky"]
assert p.guards == 1, p.guards
PY
ok "Chromium renders every step on the timeline, a bar per attempt, the guard's wait, the downtime band, the guard's observation and the masked logs"

# A failed run: run --report still writes the page, which says so and where the window is open.
rm -f "$TEST_TMP/failed.html"
expect_exit 1 "$RUNBOOK" run "$TEST_TMP/rb.yaml" --set fail_start=true --report "$TEST_TMP/failed.html"
render "$TEST_TMP/failed.html" "$TEST_TMP/failed.png" >"$TEST_TMP/failed-dom.html"
grep -q '<b class="failure" id="outcome">failure</b>' "$TEST_TMP/failed-dom.html" || fail "the failed run's page does not say failure"
grep -q 'open since' "$TEST_TMP/failed-dom.html" || fail "the failed run's page does not show the open window"
ok "run --report writes the page after a failure"

# Resume --report; and a run id that is not one, a run that does not exist.
sed -i 's/test "\$FAIL" = false/true/' "$TEST_TMP/rb.yaml"
expect_exit 0 "$RUNBOOK" resume --yes --report "$TEST_TMP/resumed.html"
grep -q 'resumed' "$TEST_TMP/resumed.html" && grep -q '<b class="success" id="outcome">' "$TEST_TMP/resumed.html" ||
  fail "resume --report: the page does not show the resumed run's success"
expect_exit 4 "$RUNBOOK" report ../../etc/passwd
grep -q "is not a run id" "$TEST_TMP/last.err" || fail "a path is taken for a run id"
expect_exit 4 "$RUNBOOK" report 20200101T000000Z-abcd
grep -q "no run 20200101T000000Z-abcd" "$TEST_TMP/last.err" || fail "a missing run: $(cat "$TEST_TMP/last.err")"
ok "resume --report; bad and unknown run ids refused"

# The team's store: another operator, with an empty state directory, gets the same page.
start_pg  # $PG (its socket directory) and $port
psql -X -q -h "$PG" -p "$port" -U postgres -d postgres -c "CREATE DATABASE ops"
URL="postgresql://postgres@127.0.0.1:$port/ops"
expect_exit 0 "$RUNBOOK" state import "$RUNBOOK_STATE_DIR" --state "$URL"
RUNBOOK_STATE_DIR="$TEST_TMP/empty" expect_exit 0 "$RUNBOOK" report "$run_id" --state "$URL" -o "$TEST_TMP/store.html"
cmp -s "$TEST_TMP/report.html" "$TEST_TMP/store.html" ||
  { diff "$TEST_TMP/report.html" "$TEST_TMP/store.html" | head -20; fail "the store's page differs from the state directory's"; }
ok "report --state reads the run from the team's store: the same page"
