#!/usr/bin/env python3
"""Writes a synthetic runbook of N steps for the validate/plan benchmark (bench/before_after.py).

Shape, close to the shipped runbooks but scaled up: every step but the first needs one to three
earlier steps; env values, argv guards and sql queries carry ${{ params.x }} templates (shell
commands take the values from env, as they must); every
tenth step is a sql step, every seventh has guards (command, sql, backup_fresh), every
thirteenth an `if`. Deterministic: the same N gives the same file.

    python3 bench/gen_runbook.py N > FILE
"""
import random
import sys


def main() -> None:
    n = int(sys.argv[1])
    rng = random.Random(n)
    out = sys.stdout
    w = out.write
    w("name: bench-%d\n" % n)
    w("description: Synthetic runbook of %d steps (bench/gen_runbook.py)\n" % n)
    w("params:\n")
    w("  workdir: {type: path, default: /tmp/bench-work}\n")
    w("  every: {type: integer, default: 500}\n")
    w("  label: {type: string, default: nightly}\n")
    w("  reindex: {type: boolean, default: false}\n")
    w("  pause: {type: duration, default: 5s}\n")
    w("hosts:\n  box: {local: true}\n")
    w("databases:\n  main: {conninfo: \"host=/tmp port=5999 dbname=bench user=bench\"}\n")
    w("defaults: {host: local, timeout: 30m, retries: 0}\n")
    w("steps:\n")
    for i in range(n):
        w("  - id: s%d\n" % i)
        if i % 5 == 0:
            w("    description: Step %d of the synthetic runbook\n" % i)
        if i > 0:
            k = min(i, rng.randint(1, 3))
            # Mostly near predecessors (long chains), some far back (wide fan-in).
            deps = {i - 1}
            while len(deps) < k:
                deps.add(rng.randrange(0, i))
            w("    needs: [%s]\n" % ", ".join("s%d" % d for d in sorted(deps)))
        if i % 13 == 0:
            w("    if: \"${{ params.reindex }}\"\n")
        if i % 7 == 0:
            w("    guards:\n")
            w("      - command: {run: [test, -d, \"${{ params.workdir }}\"]}\n")
            w("        on_fail: warn\n")
            w("      - sql: {db: main, query: \"SELECT count(*) < ${{ params.every }} FROM pg_stat_activity\"}\n")
            w("        wait: 1m\n")
            w("      - backup_fresh: {path: \"${{ params.workdir }}/dump-*.sql\", max_age: 24h, min_size: 1MB}\n")
            w("        on_fail: skip\n")
        if i % 10 == 3:
            w("    sql: {db: main, query: \"SELECT id, name FROM t%d WHERE id %% ${{ params.every }} = 0 AND label = ${{ params.label }}\", show: none}\n" % i)
        else:
            w("    run: echo step %d \"$LABEL\" \"$EVERY\" && test -n \"$WORKDIR/s%d\"\n" % (i, i))
            w("    env: {LABEL: \"${{ params.label }}-%d\", WORKDIR: \"${{ params.workdir }}\", EVERY: \"${{ params.every }}\"}\n" % i)
            if i % 4 == 1:
                w("    idempotent: true\n")
                w("    timeout: 10m\n")
    w("finally:\n")
    w("  - id: cleanup\n")
    w("    run: rm -rf \"$RUNBOOK_PARAM_WORKDIR/tmp\"\n")


if __name__ == "__main__":
    main()
