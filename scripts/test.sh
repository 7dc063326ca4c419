#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs the test dependencies, starts the
# test servers, checks formatting and lints, runs every test, stops what it started, and
# prints how long each phase took. `.ci/run` runs exactly this.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export FBS_TESTENV_DIR=${FBS_TESTENV_DIR:-$ROOT/.testenv}

declare -a PHASES=()
phase() {
  local name=$1; shift
  local t0=$SECONDS
  printf '\n=== %s\n' "$name"
  "$@"
  PHASES+=("$(printf '%-12s %4ds' "$name" $((SECONDS - t0)))")
}
report() {
  printf '\n=== phase timings\n'
  printf '%s\n' "${PHASES[@]}"
}
cleanup() {
  scripts/testenv.sh down || true
  report
}
trap cleanup EXIT

toolchain() {
  command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 3; }
  rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy
  command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
}

phase toolchain toolchain
phase testenv scripts/testenv.sh up
# shellcheck disable=SC1091
source "$FBS_TESTENV_DIR/env"
phase fmt cargo fmt --all --check
phase clippy cargo clippy --workspace --all-targets --locked -- -D warnings
phase doc env RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked
phase build cargo nextest run --workspace --locked --no-run
phase test cargo nextest run --workspace --locked --no-fail-fast
