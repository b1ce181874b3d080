#!/usr/bin/env bash
# Benchmark of `kseal redact`: 1,000 secrets over a synthetic Kamal deploy
# log, next to `cat` (the cost of copying the bytes at all) and to dotenvx's
# redacting run mode (`dotenvx run --redact -- cat LOG`) on the same input.
# Prints throughput and peak RSS for each, and the ratios BENCHMARKS.md
# reports.
#
# Usage: bench/redact.sh [SIZE_MIB] [SECRETS]   (defaults: 1024 and 1000)
# RUNS=N sets how many runs of cat and kseal the median is taken over
# (default 5); DOTENVX=0 leaves dotenvx out.
# Needs: a Rust toolchain, python3, node and npm (for @dotenvx/dotenvx),
# GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib=${1:-1024}
count=${2:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/kseal-bench-redact.XXXXXX")
trap 'rm -rf "$work"' EXIT

cargo build --release --locked --quiet
kseal=$PWD/target/release/kseal

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing node and npm (Debian packages)" >&2
  apt-get install -y -qq nodejs npm >/dev/null
fi
dotenvx_dir=${DOTENVX_DIR:-$PWD/target/bench-dotenvx}
if [ ! -x "$dotenvx_dir/node_modules/.bin/dotenvx" ]; then
  npm install --silent --no-audit --no-fund --prefix "$dotenvx_dir" @dotenvx/dotenvx@2 >/dev/null
fi
dotenvx=$dotenvx_dir/node_modules/.bin/dotenvx

echo "generating $count secrets and a ${size_mib} MiB deploy log in $work" >&2
python3 bench/gen_redact_input.py "$work" "$count" "$size_mib"
mkdir -p "$work/app/config" "$work/home"
touch "$work/app/config/deploy.yml"
age-keygen -o "$work/identity" 2>/dev/null
export HOME=$work/home KSEAL_IDENTITY_FILE=$work/identity
cd "$work/app"
while IFS=$'\t' read -r name value; do
  printf '%s' "$value" | "$kseal" set "$name" -d production 2>/dev/null
done < "$work/values.tsv"
"$kseal" --debug redact -d production </dev/null 2>&1 | grep -o 'masking .*' >&2

log=$work/deploy.log
bytes=$(stat -c %s "$log")

# measure NAME RUNS CMD...: runs `cat LOG | CMD > /dev/null` RUNS times
# and reports the run with the median CPU time (user + system) of CMD, with
# its wall time and peak RSS. CPU time is the cost on one core: through a
# pipe, wall time also counts waiting for the producer and the scheduler,
# which dominates for `cat` (it wakes for every small write) and varies
# with other load on a shared machine.
measure() {
  local name=$1 runs=$2
  shift 2
  cat "$log" >/dev/null # warm the page cache
  for i in $(seq "$runs"); do
    cat "$log" | /usr/bin/time -f '%e %U %S %M' -o "$work/time.$name.$i" "$@" >/dev/null 2>"$work/err.$name"
    awk '{ printf "%.2f %.2f %d\n", $2 + $3, $1, $4 }' "$work/time.$name.$i"
  done | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2)' >"$work/time.$name"
  read -r cpu wall rss <"$work/time.$name"
  eval "cpu_$name=$cpu"
  awk -v n="$name" -v b="$bytes" -v c="$cpu" -v w="$wall" -v r="$rss" -v k="$runs" 'BEGIN {
    printf "%-8s cpu %7.2f s %8.1f MB/s   wall %7.2f s %8.1f MB/s   peak RSS %6.1f MiB  (median of %d)\n",
      n, c, b / c / 1e6, w, b / w / 1e6, r / 1024, k
  }'
}

# One core for the tool under test, as the goal is stated per core.
# dotenvx takes minutes per run, so it runs once.
runs=${RUNS:-5}
measure cat "$runs" taskset -c 0 cat
measure kseal "$runs" taskset -c 0 "$kseal" redact -d production
cpu_dotenvx=nan
if [ "${DOTENVX:-1}" != 0 ]; then
  cp "$work/dotenv" "$work/app/.env"
  measure dotenvx 1 taskset -c 0 "$dotenvx" run -f "$work/app/.env" --redact -- cat
fi

# Sanity: the redacted output holds no value.
cat "$log" | "$kseal" redact -d production > "$work/redacted"
if cut -f2 "$work/values.tsv" | grep -F -q -f - "$work/redacted"; then
  echo "FAIL: a value survived redaction" >&2
  exit 1
fi

awk -v c="$cpu_cat" -v k="$cpu_kseal" -v d="$cpu_dotenvx" -v b="$bytes" 'BEGIN {
  printf "kseal: %.2f GB/s per CPU second; CPU time vs cat: %.2fx the speed; vs dotenvx: %.1fx faster\n",
    b / k / 1e9, c / k, d / k
}'
