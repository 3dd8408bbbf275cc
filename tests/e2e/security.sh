#!/usr/bin/env bash
# Values are data, never code (issue 14), driven through the real binary:
#  - backup_fresh with hostile backup names, on a local host and over ssh: nothing in a name runs,
#    a `${{ }}` in a name is never rendered, a newline cannot forge a "fresh, big enough" backup,
#    and verify gets the exact path in $BACKUP_FILE;
#  - state files: a planted lock symlink is not followed, a state directory others can write to
#    is refused, `logs` takes ids only;
#  - terminal: escape sequences in a child's output are shown escaped, the log keeps the bytes;
#  - secrets: never in any plan form (text, JSON, --out) whatever field uses them, never in the
#    process table while local and remote steps run.
source "$(dirname "$0")/lib/common.bash"
export RB_SEC_TOKEN="tok-$$-Zq9secret"

# ---- backup names ------------------------------------------------------------------------
# The names' commands would create pwnedN in the working directory (of the engine, of a shell).
cd "$TEST_TMP"
backups="$TEST_TMP/backups"
mkdir -p "$backups"
now=$(date +%s)
# Small real files with hostile names; the forged line claims a fresh 5 GB backup.
: >"$backups/jane-x\$(touch pwned1).dump"
: >"$backups/jane-y\`touch pwned2\`.dump"
: >"$backups/jane-z\${{ secrets.token }}.dump"
: >"$backups/jane-a.dump
$now 5000000000 jane-forged.dump"
cat >"$TEST_TMP/backup.yaml" <<YAML
name: backuptest
secrets:
  token: {env: RB_SEC_TOKEN}
params:
  dir: {default: "$backups"}
steps:
  - id: destroy
    guards:
      - backup_fresh:
          path: "\${{ params.dir }}/jane-*.dump"
          max_age: 1h
          min_size: 1MB
          verify: 'printf "%s\n" "\$BACKUP_FILE" "\$1" >>"$TEST_TMP/verified"'
    run: touch "$TEST_TMP/destroyed"
YAML
expect_exit 3 "$RUNBOOK" plan "$TEST_TMP/backup.yaml" --out "$TEST_TMP/backup-plan.json"
cat "$TEST_TMP/last.out" "$TEST_TMP/backup-plan.json" >"$TEST_TMP/backup-all.txt"
grep -q "does not hold now" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the forged backup made the guard hold"; }
set +e
"$RUNBOOK" run "$TEST_TMP/backup.yaml" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "the run succeeded on a forged backup"
cat "$TEST_TMP/last.out" "$TEST_TMP/last.err" >>"$TEST_TMP/backup-all.txt"
[ ! -e "$TEST_TMP/destroyed" ] || fail "the guarded step ran on a forged backup"
ok "a newline in a backup name forges no fresh, big enough backup: the guarded step did not run"
grep -q "ignored" "$TEST_TMP/backup-all.txt" || { cat "$TEST_TMP/backup-all.txt"; fail "the name with a newline was not reported as ignored"; }

# A real backup, fresh and big enough, next to the hostile names: verify gets its exact path.
head -c 2000000 /dev/zero >"$backups/jane-zz\$(touch pwned3).dump"
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/backup.yaml" --fresh
[ -e "$TEST_TMP/destroyed" ] || fail "the guarded step did not run with a good backup"
want="$backups/jane-zz\$(touch pwned3).dump"
[ "$(sed -n 1p "$TEST_TMP/verified")" = "$want" ] || { cat "$TEST_TMP/verified"; fail "verify's \$BACKUP_FILE is not the exact path"; }
[ "$(sed -n 2p "$TEST_TMP/verified")" = "$want" ] || fail "verify's argument is not the exact path"
ok "verify gets the newest backup's exact path in \$BACKUP_FILE and as \$1"
for n in 1 2 3; do [ ! -e "$TEST_TMP/pwned$n" ] && [ ! -e "$backups/pwned$n" ] || fail "a backup name ran as code (pwned$n)"; done
if grep -q -- "$RB_SEC_TOKEN" "$TEST_TMP/backup-all.txt"; then fail "a \${{ }} in a backup name was rendered"; fi
ok "nothing in a backup name ran (\$(), backquotes) or was rendered (\${{ }})"

# ---- state files -------------------------------------------------------------------------
cat >"$TEST_TMP/lock.yaml" <<'YAML'
name: locktest
steps:
  - id: a
    run: echo a
YAML
mkdir -p "$RUNBOOK_STATE_DIR/locktest"
chmod 700 "$RUNBOOK_STATE_DIR" "$RUNBOOK_STATE_DIR/locktest"
echo "precious" >"$TEST_TMP/precious"
ln -s "$TEST_TMP/precious" "$RUNBOOK_STATE_DIR/locktest/lock"
set +e
"$RUNBOOK" run "$TEST_TMP/lock.yaml" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a run took a lock that is a symlink"
[ "$(cat "$TEST_TMP/precious")" = "precious" ] || fail "the lock symlink's target was changed"
grep -q "symbolic link" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "the refusal does not say why"; }
ok "a planted lock symlink is not followed (exit $rc, target unchanged)"
rm "$RUNBOOK_STATE_DIR/locktest/lock"
chmod 777 "$RUNBOOK_STATE_DIR/locktest"
set +e
"$RUNBOOK" run "$TEST_TMP/lock.yaml" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a state directory writable by others was used"
grep -q "$RUNBOOK_STATE_DIR/locktest is writable by others" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "the refusal does not name the directory"; }
ok "a state directory writable by others is refused, with its path"
chmod 700 "$RUNBOOK_STATE_DIR/locktest"
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/lock.yaml"
run_id=$(basename "$(run_dir_of locktest)")
expect_exit 4 "$RUNBOOK" logs "$run_id" ../../../../../../etc/passwd
if grep -q "root:" "$TEST_TMP/last.out"; then fail "logs printed a file outside the run"; fi
grep -q "is not a step id" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "the traversal was not refused as such"; }
expect_exit 4 "$RUNBOOK" logs ../../etc a
ok "logs takes only a run id and a step id, never a path"

# ---- terminal ----------------------------------------------------------------------------
cat >"$TEST_TMP/term.yaml" <<'YAML'
name: termtest
steps:
  - id: clear
    run: printf 'before \033[2J after\n'
YAML
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/term.yaml"
if grep -q $'\033\[2J' "$TEST_TMP/last.out"; then fail "an escape sequence reached the terminal raw"; fi
grep -qF 'before \x1b[2J after' "$TEST_TMP/last.out" || { cat -v "$TEST_TMP/last.out"; fail "the escape sequence is not shown escaped"; }
grep -q $'before \033\[2J after' "$(run_dir_of termtest)/logs/clear.log" || fail "the log did not keep the bytes"
ok "a child's ESC[2J is shown as \\x1b[2J; its log keeps the bytes"

# ---- secrets in plans --------------------------------------------------------------------
cat >"$TEST_TMP/secplan.yaml" <<'YAML'
name: secplan
secrets:
  token: {env: RB_SEC_TOKEN}
databases:
  db: {conninfo: "host=127.0.0.1 port=1 dbname=x connect_timeout=1", password: "${{ secrets.token }}"}
steps:
  - id: file
    sql: {db: db, file: "/nonexistent/${{ secrets.token }}.sql"}
  - id: cancel
    cancel_queries: {db: db, application_name: "app-${{ secrets.token }}"}
  - id: envvar
    run: [echo, hello]
    env: {A: "${{ env.RB_SEC_TOKEN }}", B: "${{ secrets.token }}"}
    confirm: "token ${{ env.RB_SEC_TOKEN }} and ${{ secrets.token }}"
  - id: manual
    manual: "look at ${{ env.RB_SEC_TOKEN }}"
YAML
: >"$TEST_TMP/secplan-all.txt"
for format in text json; do
  expect_exit 0 "$RUNBOOK" plan "$TEST_TMP/secplan.yaml" --offline --format "$format" --out "$TEST_TMP/secplan-$format.json"
  cat "$TEST_TMP/last.out" "$TEST_TMP/last.err" "$TEST_TMP/secplan-$format.json" >>"$TEST_TMP/secplan-all.txt"
done
grep -q "\*\*\*" "$TEST_TMP/secplan-all.txt" || fail "the plan shows no masked value at all"
if grep -q -- "$RB_SEC_TOKEN" "$TEST_TMP/secplan-all.txt"; then
  grep -n -- "$RB_SEC_TOKEN" "$TEST_TMP/secplan-all.txt" | head
  fail "a secret appears in a plan"
fi
ok "a secret in sql.file, cancel_queries.application_name, env.VAR, confirm and manual is masked in every plan form"
# copy_rows' fields become the statement's text: a secret there is refused.
cat >"$TEST_TMP/seccopy.yaml" <<'YAML'
name: seccopy
secrets:
  token: {env: RB_SEC_TOKEN}
databases:
  a: {conninfo: "dbname=a"}
  b: {conninfo: "dbname=b"}
steps:
  - id: copy
    copy_rows: {from: a, to: b, table: "t_${{ secrets.token }}", columns: ["${{ env.RB_SEC_TOKEN }}"], where: "x = ${{ secrets.token }}"}
YAML
expect_exit 2 "$RUNBOOK" validate "$TEST_TMP/seccopy.yaml"
[ "$(grep -c "in copy_rows" "$TEST_TMP/last.err")" -eq 3 ] || { cat "$TEST_TMP/last.err"; fail "secrets in copy_rows' table, columns and where were not all refused"; }
ok "a secret in copy_rows' table, columns or where is refused by validate"

# ---- the process table while local and remote steps run -----------------------------------
sshdir="$TEST_TMP/sshd"
port=$((20000 + RANDOM % 20000))
bash "$SOURCE_DIR/tests/harness/sshd.sh" start "$sshdir" "$port" $$ >/dev/null
cleanup_hooks+=("bash '$SOURCE_DIR/tests/harness/sshd.sh' stop '$sshdir'")
{
  echo "name: pstest"
  echo "secrets:"
  echo "  token: {env: RB_SEC_TOKEN}"
  echo "hosts:"
  echo "  remote:"
  echo "    ssh: $(id -un)@127.0.0.1"
  echo "    port: $port"
  echo "    identity_file: $sshdir/id_ed25519"
  echo "    options:"
  sed 's/^/      - "/; s/$/"/' "$sshdir/ssh_options"
  echo "steps:"
  echo "  - id: local"
  echo "    env: {TOKEN: \"\${{ secrets.token }}\"}"
  echo "    run: 'sleep 4; test -n \"\$TOKEN\"'"
  echo "  - id: remote"
  echo "    host: remote"
  echo "    env: {TOKEN: \"\${{ secrets.token }}\"}"
  echo "    run: 'sleep 4; test -n \"\$TOKEN\"'"
  echo "  - id: remote-backup"
  echo "    host: remote"
  echo "    env: {TOKEN: \"\${{ secrets.token }}\"}"
  echo "    guards:"
  echo "      - backup_fresh: {path: \"$backups/jane-*.dump\", min_size: 1MB, verify: 'sleep 1; test -f \"\$BACKUP_FILE\"'}"
  echo "        on_fail: skip  # the names are tiny: the guard fails, the run goes on"
  echo "    run: 'sleep 1'"
} >"$TEST_TMP/ps.yaml"
"$RUNBOOK" run "$TEST_TMP/ps.yaml" --jobs 3 >"$TEST_TMP/ps.out" 2>&1 &
engine=$!
samples=0
while kill -0 "$engine" 2>/dev/null; do
  ps -eo args >"$TEST_TMP/ps.sample" 2>/dev/null || true
  if grep -q -- "$RB_SEC_TOKEN" "$TEST_TMP/ps.sample"; then
    grep -- "$RB_SEC_TOKEN" "$TEST_TMP/ps.sample" >&2
    kill "$engine" 2>/dev/null || true
    fail "a secret showed in the process table"
  fi
  samples=$((samples + 1))
  sleep 0.05
done
wait "$engine" || { cat "$TEST_TMP/ps.out"; fail "the local and remote steps failed"; }
[ "$samples" -gt 5 ] || fail "too few samples of the process table ($samples)"
grep -q "remote-backup" "$TEST_TMP/ps.out" || fail "the remote backup step did not run"
for n in 1 2 3; do [ ! -e "$TEST_TMP/pwned$n" ] && [ ! -e "$HOME/pwned$n" ] || fail "a backup name ran as code over ssh (pwned$n)"; done
ok "no secret in $samples samples of the process table while local and remote steps ran; backup names listed over ssh ran nothing"

echo "$pass_count passed, 0 failed"
