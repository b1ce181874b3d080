#!/usr/bin/env bash
# Builds kseal's fuzz targets with libFuzzer and runs each one for a while.
#
# The stable toolchain is enough: the coverage instrumentation libFuzzer
# needs is asked for with `-C passes=sancov-module` and LLVM options, the
# flags cargo-fuzz passes, without its nightly-only sanitizers. Building
# for an explicit --target keeps the flags off build scripts and
# procedural macros.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60)
#   TARGET   sealed_file sealed_tamper secrets_dotenv deploy_yaml
#            rails_marshal scan_engine (default: all)
# Corpora grow in fuzz/corpus/TARGET; a failing input is written to
# fuzz/artifacts/TARGET/ and the script stops with libFuzzer's exit code.
# Replay one with: fuzz/target/<triple>/release/TARGET ARTIFACT
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sealed_file sealed_tamper secrets_dotenv deploy_yaml rails_marshal scan_engine)
fi

triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-C passes=sancov-module \
  -C llvm-args=-sanitizer-coverage-level=4 \
  -C llvm-args=-sanitizer-coverage-inline-8bit-counters \
  -C llvm-args=-sanitizer-coverage-pc-table \
  -C llvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -C debug-assertions -C overflow-checks"
target_dir=${FUZZ_TARGET_DIR:-target}
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
cargo build --locked --release --target "$triple" --target-dir "$target_dir" "${bins[@]}"
bin=$target_dir/$triple/release

# Kamal's own deploy files and secrets files seed the Kamal parsers when
# the workspace's shared data is next to the project.
kamal=../../shared/compat/kamal/fixtures
seeds() {
  [ -d "$kamal" ] || return 0
  case $1 in
    deploy_yaml) find "$kamal" -name '*.yml' ;;
    secrets_dotenv) find "$kamal" -path '*secrets*' -type f ;;
  esac
}

for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  seeds "$t" | while read -r f; do
    cp -n "$f" "corpus/$t/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  echo "== $t: ${seconds}s"
  log=artifacts/$t/last-run.log
  status=0
  "$bin/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" "corpus/$t" >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz target $t failed (exit $status); the input is in fuzz/artifacts/$t/" >&2
    exit "$status"
  fi
done
