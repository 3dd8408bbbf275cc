# Shared by the benchmark scripts (sourced).

# chain_runbook NAME N [HOST] [RUN]: a runbook of N `true` steps, each needing the one before (so
# they run one at a time, like a loop), on HOST when given (or ""); RUN is the step's `run:` value,
# by default the shell command 'true'; printed to stdout.
chain_runbook() {
  local name=$1 n=$2 host=${3:-} run=${4:-"'true'"} i
  echo "name: $name"
  [ -n "$host" ] && echo "defaults: {host: $host}"
  echo "steps:"
  for ((i = 0; i < n; i++)); do
    echo "  - id: s$i"
    ((i > 0)) && echo "    needs: [s$((i - 1))]"
    echo "    run: $run"
  done
}
