#!/usr/bin/env bash
# Walks through kseal on the demo Kamal app in examples/demo, in a scratch
# copy with a throwaway identity: nothing outside the scratch folder changes.
# Uses target/release/kseal (or $KSEAL).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kseal=${KSEAL:-$here/../target/release/kseal}
[ -x "$kseal" ] || { echo "build first: cargo build --release" >&2; exit 2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -R "$here/demo" "$scratch/app"
export HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config"
mkdir -p "$HOME"
cd "$scratch/app"

step() { printf '\n$ kseal %s\n' "${*:2}"; "$@"; }

step "$kseal" init -d production
# Values come from stdin or a prompt, never from the command line.
step "$kseal" set RAILS_MASTER_KEY -d production --generate 32 --charset hex
printf 'postgres://blog:%s@db.internal/blog' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" |
  "$kseal" set DATABASE_URL -d production
printf example | "$kseal" set KAMAL_REGISTRY_USERNAME --shared
step "$kseal" set KAMAL_REGISTRY_PASSWORD --shared --generate 40
step "$kseal" init -d production
step "$kseal" list -d production
step "$kseal" check
# What Kamal would see: the values reach the child through its environment,
# and everything it prints is masked.
step "$kseal" run -d production -- sh -c \
  'echo "DATABASE_URL=$DATABASE_URL"; printf %s "$RAILS_MASTER_KEY" | base64'
