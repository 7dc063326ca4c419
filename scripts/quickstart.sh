#!/usr/bin/env bash
# From a fresh Debian 12 machine (as root, with a Rust toolchain) to a bootable live ISO:
# installs the native builder's tools, builds fbs, builds the sample RPM repository (busybox,
# two small packages, Debian's real kernel at Fedora's paths, a marker initramfs) and runs
# `fbs local conf/examples/sample-live.conf`, ending with the ISO's path. Idempotent.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SAMPLE=/var/tmp/fbs-sample

if [ "$(id -u)" != 0 ]; then
  echo "quickstart: run as root (it installs packages, and builds run %post in namespaces)" >&2
  exit 3
fi
command -v cargo >/dev/null || { echo "quickstart: cargo is required (https://rustup.rs)" >&2; exit 3; }

echo "== installing the native builder's tools"
FBS_TESTENV_DIR=${FBS_TESTENV_DIR:-$ROOT/.testenv} scripts/testenv.sh install-builder
echo "== building fbs"
cargo build --locked --quiet
echo "== building the sample repository in $SAMPLE"
FBS_APT_DIR=${FBS_TESTENV_DIR:-$ROOT/.testenv}/apt scripts/fixtures/make-repo.sh "$SAMPLE"
echo "== fbs local conf/examples/sample-live.conf"
"${CARGO_TARGET_DIR:-target}"/debug/fbs local conf/examples/sample-live.conf --quiet | tee /tmp/fbs-quickstart.out
iso=$(grep '\.iso$' /tmp/fbs-quickstart.out | head -n 1)
if ! checkisomd5 "$iso" >/dev/null 2>&1; then
  echo "quickstart: checkisomd5 failed on $iso" >&2
  exit 1
fi
echo "checkisomd5: PASS"
echo "ISO: $iso"
