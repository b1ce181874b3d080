#!/usr/bin/env bash
# Compares `kseal export -d production` of 50 secrets with `age -d` of one
# age file holding the same 50 values as dotenv lines, decrypted with the
# same identity: the cost of kseal's per-value sealing and MAC over the
# plain "one encrypted .env" approach.
#
# usage: cargo build --release && bench/export.sh [RUNS]
#
# RUNS (default 30, at least 20) runs of each command, interleaved so that
# both see the same machine load. Reports the median wall time of each, the
# ratio kseal/age, and the median peak RSS of each (with GNU time, Debian
# package `time`, when /usr/bin/time is present). KSEAL=path overrides the
# kseal binary (default: target/release/kseal); SECRETS=n the number of
# secrets (default 50).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

runs=${1:-30}
secrets=${SECRETS:-50}
kseal=${KSEAL:-$PWD/target/release/kseal}

die() {
  echo "bench/export.sh: $*" >&2
  exit 2
}
[ "$runs" -ge 20 ] 2>/dev/null || die "RUNS must be a number of at least 20"
[ "$secrets" -ge 1 ] 2>/dev/null || die "SECRETS must be a positive number"
[ -x "$kseal" ] || die "no kseal binary at $kseal; run \`cargo build --release\`"
command -v age >/dev/null || die "age is not installed (Debian: apt install age)"
command -v age-keygen >/dev/null || die "age-keygen is not installed"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 or later (EPOCHREALTIME)"
gnu_time=
if /usr/bin/time -f %M true 2>/dev/null; then
  gnu_time=/usr/bin/time
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
app=$tmp/app
identity=$tmp/identity.txt
mkdir -p "$app/config"
echo "service: bench" >"$app/config/deploy.yml"
age-keygen -o "$identity" 2>/dev/null
recipient=$(age-keygen -y "$identity")

# The same 50 random 40-character values, sealed by kseal and written as
# dotenv lines into one age file.
for i in $(seq -w 1 "$secrets"); do
  name=SECRET_$i
  value=$(head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | cut -c1-40)
  printf '%s' "$value" |
    "$kseal" -C "$app" -i "$identity" set "$name" -d production 2>/dev/null
  printf "%s='%s'\n" "$name" "$value" >>"$tmp/secrets.env"
done
age -r "$recipient" -o "$tmp/secrets.env.age" "$tmp/secrets.env"

run_kseal() { "$kseal" -C "$app" -i "$identity" export -d production; }
run_age() { age -d -i "$identity" "$tmp/secrets.env.age"; }

# Both must print the same 50 lines, or the comparison means nothing.
cmp -s <(run_kseal) "$tmp/secrets.env" ||
  die "kseal export and the dotenv file differ"
cmp -s <(run_age) "$tmp/secrets.env" || die "age -d does not give the dotenv file back"
rm "$tmp/secrets.env"

# Microseconds one run of "$1" takes, output discarded.
time_one() {
  local start end
  start=$EPOCHREALTIME
  "$1" >/dev/null
  end=$EPOCHREALTIME
  echo $((${end/./} - ${start/./}))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for _ in 1 2 3; do run_kseal >/dev/null; run_age >/dev/null; done
: >"$tmp/kseal.us"
: >"$tmp/age.us"
for _ in $(seq "$runs"); do
  time_one run_kseal >>"$tmp/kseal.us"
  time_one run_age >>"$tmp/age.us"
done
kseal_us=$(median <"$tmp/kseal.us")
age_us=$(median <"$tmp/age.us")

kseal_kib=n/a
age_kib=n/a
if [ -n "$gnu_time" ]; then
  : >"$tmp/kseal.kib"
  : >"$tmp/age.kib"
  for _ in $(seq 5); do
    "$gnu_time" -f %M -a -o "$tmp/kseal.kib" "$kseal" -C "$app" -i "$identity" \
      export -d production >/dev/null
    "$gnu_time" -f %M -a -o "$tmp/age.kib" age -d -i "$identity" \
      "$tmp/secrets.env.age" >/dev/null
  done
  kseal_kib=$(median <"$tmp/kseal.kib")
  age_kib=$(median <"$tmp/age.kib")
fi

echo "kseal export -d production vs age -d, $secrets secrets, $runs runs each"
echo "kseal: $("$kseal" --version)"
echo "age:   $(age --version)"
printf '%-8s %16s %16s\n' "" "median wall ms" "peak RSS KiB"
awk -v us="$kseal_us" -v kib="$kseal_kib" 'BEGIN { printf "%-8s %16.2f %16s\n", "kseal", us / 1000, kib }'
awk -v us="$age_us" -v kib="$age_kib" 'BEGIN { printf "%-8s %16.2f %16s\n", "age", us / 1000, kib }'
awk -v k="$kseal_us" -v a="$age_us" 'BEGIN { printf "ratio kseal/age, wall time: %.2f\n", k / a }'
if [ -n "$gnu_time" ]; then
  awk -v k="$kseal_kib" -v a="$age_kib" 'BEGIN { printf "ratio kseal/age, peak RSS:  %.2f\n", k / a }'
fi
