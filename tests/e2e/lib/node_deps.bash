# The node tools of tests/package.json (ajv, yaml, yaml-language-server) for the tests written in
# JavaScript. `make deps` installs them; a test run without them installs them first (npm install
# honours tests/package-lock.json) or fails saying what to run.
node_deps_or_fail() {
  if ! command -v node >/dev/null; then
    echo "FAIL node is not installed: run 'make deps'"
    return 1
  fi
  if ! (cd tests && npm ls --silent >/dev/null 2>&1); then
    (cd tests && npm install --no-audit --no-fund --silent >/dev/null 2>&1)
  fi
  if ! (cd tests && npm ls --silent >/dev/null 2>&1); then
    echo "FAIL the node modules of tests/package.json are not installed: run 'make deps'"
    return 1
  fi
}
