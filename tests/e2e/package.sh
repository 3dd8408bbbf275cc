#!/usr/bin/env bash
# The Debian package as a user gets it: built by CPack from the build directory of $RUNBOOK (or
# taken from $PACKAGE), its control fields and contents checked, then installed and used from
# the installed path: `runbook --version`, the installed example runbooks validated, a small
# runbook planned and run.
#
# With CI=true as root it is installed into the system with `dpkg -i` (and purged afterwards);
# otherwise it is unpacked into a scratch directory with `dpkg -x` and run from there.
source "$(dirname "$0")/lib/common.bash"

# ---- the package ----
deb=${PACKAGE:-}
if [ -z "$deb" ]; then
  build=$(dirname "$RUNBOOK")
  [ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build: configure with CMake first"
  (cd "$build" && cpack -B "$TEST_TMP/pkg" >"$TEST_TMP/cpack.log" 2>&1) ||
    { cat "$TEST_TMP/cpack.log" >&2; fail "cpack could not build the package"; }
  debs=("$TEST_TMP/pkg/"*.deb)
  [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "cpack made no single .deb: ${debs[*]}"
  deb=${debs[0]}
fi
ok "package $(basename "$deb")"

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = runbook ] || fail "Package is '$(field Package)'"
version=$(field Version)
depends=$(field Depends)
echo "Depends: $depends"
# The package names in Depends, one a line ("libpq5 (>= 15), libc6 (>= 2.34)" -> libpq5, libc6).
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed -E 's/^ *//; s/[ :(].*//' | sort -u)
declared() { grep -qxF "$1" <<<"$depends_names"; }

# The package that owns a library file: dpkg knows some under /lib, others under /usr/lib (the
# merged /usr), and some by their symlink's name, others by the file's.
owner_of() {
  local path real candidate
  path=$1
  real=$(realpath "$path")
  for candidate in "$path" "${path#/usr}" "/usr$path" "$real" "${real#/usr}"; do
    dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
  return 1
}
# Every shared library the binary itself needs (its NEEDED entries, not what those pull in: libssl
# comes with libpq5's own Depends) comes from a package it declares.
needed=$(readelf -d "$RUNBOOK" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf lists no NEEDED library of $RUNBOOK"
libs=$(ldd "$RUNBOOK" | awk -v needed="$needed" '
  BEGIN { n = split(needed, names, "\n"); for (i = 1; i <= n; i++) want[names[i]] = 1 }
  $2 == "=>" && $3 ~ /^\// && ($1 in want) { print $3 }')
[ -n "$libs" ] || fail "ldd lists no library of $RUNBOOK"
while read -r lib; do
  owner=$(owner_of "$lib") || fail "no installed package owns $lib (linked by runbook)"
  declared "$owner" || fail "runbook links $lib of package $owner, which Depends does not name"
done <<<"$libs"
ok "Depends names the package of every library runbook links"

contents=$(dpkg-deb --contents "$deb" | awk '{ print $6 }')
for f in ./usr/bin/runbook ./usr/share/runbook/schemas/runbook.schema.json \
  ./usr/share/runbook/schemas/inventory.schema.json ./usr/share/doc/runbook/README.md \
  ./usr/share/doc/runbook/format.md ./usr/share/doc/runbook/examples/runbooks/clone-prod.yaml; do
  grep -qxF "$f" <<<"$contents" || fail "the package has no $f"
done
ok "the package holds the binary, the schemas and the docs"

# ---- installed ----
if [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ]; then
  prefix=""
  if dpkg -s runbook >/dev/null 2>&1; then fail "a runbook package is installed already"; fi
  cleanup_hooks+=("dpkg --purge runbook >/dev/null")
  dpkg -i "$deb" >"$TEST_TMP/dpkg.log" 2>&1 || { cat "$TEST_TMP/dpkg.log" >&2; fail "dpkg -i failed"; }
  [ "$(command -v runbook)" = /usr/bin/runbook ] || fail "runbook is not /usr/bin/runbook on PATH"
  ok "installed with dpkg -i"
else
  prefix=$TEST_TMP/root
  dpkg -x "$deb" "$prefix"
  ok "unpacked with dpkg -x into a scratch root (CI=true as root installs it)"
fi
rb=$prefix/usr/bin/runbook
share=$prefix/usr/share

expect_exit 0 "$rb" --version
[ "$(cat "$TEST_TMP/last.out")" = "runbook $version" ] ||
  fail "--version says '$(cat "$TEST_TMP/last.out")', the package is $version"
ok "runbook --version: runbook $version"

for schema in "$share"/runbook/schemas/*.json; do
  python3 -m json.tool "$schema" >/dev/null || fail "$schema is not JSON"
done
expect_exit 0 "$rb" validate "$share"/doc/runbook/examples/runbooks/*.yaml
ok "the installed example runbooks validate"

cat >"$TEST_TMP/smoke.yaml" <<'YAML'
name: package-smoke
params:
  greeting: {type: string, default: "hello from the package"}
  out: {type: path}
steps:
  - id: greet
    env: {GREETING: "${{ params.greeting }}", OUT: "${{ params.out }}"}
    run: printf '%s\n' "$GREETING" >"$OUT"
  - id: argv
    needs: [greet]
    run: [/bin/sh, -c, 'echo "argv step ran" >>"$1"', sh, "${{ params.out }}"]
YAML
out=$TEST_TMP/smoke.out
expect_exit 0 "$rb" plan "$TEST_TMP/smoke.yaml" --offline --set "out=$out"
grep -q greet "$TEST_TMP/last.out" || fail "the plan does not show step greet"
expect_exit 0 "$rb" run "$TEST_TMP/smoke.yaml" --set "out=$out"
[ "$(cat "$out")" = "$(printf 'hello from the package\nargv step ran')" ] ||
  fail "the run wrote: $(cat "$out")"
expect_exit 0 "$rb" status
grep -q success "$TEST_TMP/last.out" || fail "status does not say success: $(cat "$TEST_TMP/last.out")"
ok "a runbook planned, run and its status read with the installed binary"

echo "$pass_count checks passed"
