#!/usr/bin/env python3
"""Issue 13's benchmark: the engine before and after the return to the chosen stack, side by side.

Prints three tables, each with the before and after figures and their ratio (after / before):
  1. lines of engine/, steps/ and cli/: at the BEFORE_REV commit and in this checkout;
  2. `runbook plan --offline` of each shipped runbook (runbooks/*.yaml), floor 30 ms each;
  3. `runbook validate` and `runbook plan --offline` of a generated 1,000-step runbook
     (bench/gen_runbook.py), floor 1 s for the two together.
Times are wall-clock medians of RUNS runs; the two binaries alternate run by run on the same
file, so a change in the machine's load hits both alike. CPU time (user + sys) is given beside.
Both binaries get the same, current input files. Verdicts judge the "after" wall time ("meets on
CPU" when only its CPU time is within the floor: a loaded machine).

    bench/before_after.py AFTER_BINARY [BEFORE_BINARY]
    env: RUNS (default 11), BEFORE_REV (default 6dded29: lines only)

A before binary comes from a scratch worktree of BEFORE_REV:
    git worktree add --detach /tmp/runbook-before 6dded29
    cmake -S /tmp/runbook-before -B /tmp/runbook-before/build -G Ninja \\
          -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/runbook-before/build --target runbook
Without one, only the "after" column is printed.
"""
import glob
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = ["engine", "steps", "cli"]
PLAN_FLOOR_MS = 30
BIG_FLOOR_MS = 1000
BIG_STEPS = 1000


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True,
                          text=True).stdout


def lines_at(rev, d):
    """(files, lines) of directory d at commit rev, or in the working tree when rev is None."""
    if rev is None:
        files = [f for f in git("ls-files", "--", d).split("\n") if f]
        total = 0
        for f in files:
            with open(os.path.join(ROOT, f), "rb") as fh:
                total += fh.read().count(b"\n")
        return len(files), total
    out = git("grep", "-c", "", rev, "--", d)  # "REV:path:count", one a file
    counts = [int(line.rsplit(":", 1)[1]) for line in out.split("\n") if line]
    return len(counts), sum(counts)


def timed(cmd, env):
    """Runs cmd once: (wall ms, cpu ms, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    rc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu, rc


def measure(binaries, args, env, runs):
    """Alternates the binaries run by run; for each binary, in order, (median wall, median cpu)
    or None if it failed (an exit code other than 0 or 3: a plan blocked by a guard is a plan)."""
    samples = [[] for _ in binaries]
    for _ in range(runs):
        for i, b in enumerate(binaries):
            wall, cpu, rc = timed([b, *args], env)
            samples[i].append((wall, cpu) if rc in (0, 3) else None)
    result = []
    for s in samples:
        if any(x is None for x in s):
            result.append(None)
        else:
            result.append((statistics.median(x[0] for x in s), statistics.median(x[1] for x in s)))
    return result


def ratio(before, after):
    if before is None or after is None or before == 0:
        return "-"
    return "%.2fx" % (after / before)


def fmt(v):
    return "failed" if v is None else "%.1f" % v


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    after_bin = os.path.abspath(sys.argv[1])
    before_bin = os.path.abspath(sys.argv[2]) if len(sys.argv) == 3 else None
    runs = int(os.environ.get("RUNS", "11"))
    before_rev = os.environ.get("BEFORE_REV", "6dded29")
    binaries = [b for b in (before_bin, after_bin) if b]
    load = lambda: open("/proc/loadavg").read().split()[0]

    print("before: %s (%s)" % (before_bin or "-", before_rev))
    print("after:  %s (%s)" % (after_bin, git("rev-parse", "--short", "HEAD").strip()))
    print("%d cores, load %s; median of %d alternating runs" % (os.cpu_count(), load(), runs))

    print("\n-- lines of code (before at %s, after in this checkout)" % before_rev)
    print("%-8s %13s %13s %7s" % ("dir", "before", "after", "ratio"))
    tb = ta = 0
    for d in DIRS:
        fb, lb = lines_at(before_rev, d)
        fa, la = lines_at(None, d)
        tb, ta = tb + lb, ta + la
        print("%-8s %6d (%3d f) %6d (%3d f) %7s" % (d + "/", lb, fb, la, fa, ratio(lb, la)))
    print("%-8s %13d %13d %7s" % ("total", tb, ta, ratio(tb, ta)))

    work = tempfile.mkdtemp(prefix="runbook-before-after-")
    env = dict(os.environ, RUNBOOK_STATE_DIR=os.path.join(work, "state"), NO_COLOR="1")
    # The shipped runbooks' secrets: plan reads them (and shows them masked).
    env.setdefault("JANE_PROD_DB_PASSWORD", "bench-prod-password")
    env.setdefault("JANE_DEV_DB_PASSWORD", "bench-dev-password")

    def row(label, res, floor):
        b = res[0] if before_bin else None
        a = res[-1]
        verdict = "-"
        if floor is not None:
            if a is None:
                verdict = "failed"
            elif a[0] <= floor:
                verdict = "meets"
            else:  # on a loaded machine wall time waits for the CPU; CPU time does not
                verdict = "meets on CPU" if a[1] <= floor else "SLOWER"
        print("%-28s %9s %9s %9s %9s %7s %7s %s" % (
            label, fmt(b and b[0]) if before_bin else "-", fmt(a and a[0]),
            fmt(b and b[1]) if before_bin else "-", fmt(a and a[1]),
            ratio(b and b[0], a and a[0]), floor if floor is not None else "-", verdict))
        return a

    header = "%-28s %9s %9s %9s %9s %7s %7s %s" % (
        "", "before ms", "after ms", "cpu bef.", "cpu aft.", "ratio", "floor", "verdict")

    print("\n-- runbook plan --offline, the shipped runbooks (floor %d ms)" % PLAN_FLOOR_MS)
    print(header)
    for f in sorted(glob.glob(os.path.join(ROOT, "runbooks", "*.yaml"))):
        res = measure(binaries, ["plan", f, "--offline"], env, runs)
        row(os.path.basename(f), res, PLAN_FLOOR_MS)

    big = os.path.join(work, "bench-%d.yaml" % BIG_STEPS)
    with open(big, "w") as fh:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_runbook.py"),
                        str(BIG_STEPS)], stdout=fh, check=True)
    print("\n-- generated %d-step runbook (bench/gen_runbook.py, %.0f kB; floor %d ms for both)" %
          (BIG_STEPS, os.path.getsize(big) / 1000, BIG_FLOOR_MS))
    print(header)
    v = measure(binaries, ["validate", big], env, runs)
    p = measure(binaries, ["plan", big, "--offline"], env, runs)
    row("validate", v, None)
    row("plan --offline", p, None)

    both = [None if x is None or y is None else (x[0] + y[0], x[1] + y[1]) for x, y in zip(v, p)]
    row("validate + plan", both, BIG_FLOOR_MS)
    print("\n(load at the end %s)" % load())
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
