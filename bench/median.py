"""Median wall time of `kseal check --staged` and `gitleaks git --staged`
on the same staged repositories. Called by bench/check.sh."""

import os
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
work, kseal, gitleaks = sys.argv[2:5]

commands = {
    "kseal check --staged": [kseal, "check", "--staged", "--format", "json"],
    "gitleaks git --pre-commit --staged": [
        gitleaks, "git", "--pre-commit", "--staged", "--no-banner",
        "--exit-code", "0", "--report-format", "json", "--report-path", "-", ".",
    ],
}


def timed(cmd, cwd):
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start, out


print(f"{runs} runs each, median (min .. max) wall time; machine: {os.cpu_count()} cores")
for app in ["check-clean", "check-planted"]:
    cwd = os.path.join(work, app)
    medians = {}
    for name, cmd in commands.items():
        timed(cmd, cwd)  # warm the page cache
        times = []
        for _ in range(runs):
            t, out = timed(cmd, cwd)
            times.append(t)
        medians[name] = statistics.median(times)
        print(
            f"{app:14} {name:36} {medians[name] * 1000:7.2f} ms "
            f"({min(times) * 1000:.2f} .. {max(times) * 1000:.2f}), exit {out.returncode}"
        )
    k, g = medians.values()
    print(f"{app:14} ratio kseal/gitleaks {k / g:.2f}")
