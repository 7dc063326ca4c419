#!/usr/bin/env bash
# Side-repo creation against the Koji stand-in: 100 RPMs of 1–5 MB (random, incompressible
# payloads, built here once with rpmbuild), made into a side repo by fbs (4 downloads at once,
# each verified, then createrepo_c), compared with curl fetching them one after another and
# with `xargs -P4 curl`, each also followed by createrepo_c. Prints times, MB/s and the
# ratios. Loopback only; not part of CI.
#
#   bench/koji.sh [N]     (N RPMs, default 100)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-100}
OUT=${FBS_BENCH_DIR:-$ROOT/target/bench-koji}/rpms-$N
for t in rpmbuild createrepo_c curl xargs; do
  command -v "$t" >/dev/null || { echo "bench/koji.sh: $t is missing" >&2; exit 3; }
done
if [ ! -f "$OUT/.done" ]; then
  rm -rf "$OUT" && mkdir -p "$OUT"
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  cat > "$W/bench.spec" <<'SPEC'
Name:      benchpkg%{n}
Version:   1.0
Release:   1
Summary:   Side-repo benchmark package
License:   MIT
BuildArch: noarch
%description
Random payload.
%install
mkdir -p %{buildroot}/usr/share/benchpkg
head -c %{bytes} /dev/urandom > %{buildroot}/usr/share/benchpkg/%{n}.bin
%files
/usr/share/benchpkg/%{n}.bin
SPEC
  echo "building $N RPMs of 1-5 MB in $OUT" >&2
  for i in $(seq 1 "$N"); do
    bytes=$(( (1 + (i * 7919) % 5) * 1000000 - (i * 104729) % 500000 ))
    HOME=$W rpmbuild --quiet -bb --define "_topdir $W/top" --define "_rpmdir $OUT" \
      --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
      --define '_binary_payload w0.gzdio' --define "n $i" --define "bytes $bytes" "$W/bench.spec"
  done
  touch "$OUT/.done"
fi
cd "$ROOT"
FBS_BENCH_KOJI_RPMS=$OUT cargo test --release --test tests koji::bench -- --ignored --nocapture 2>&1 \
  | grep -v '^running\|^test \|^$\|test result'
