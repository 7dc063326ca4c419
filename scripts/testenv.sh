#!/usr/bin/env bash
# The project's test environment: installs what the test suite needs (when missing), starts
# the servers it uses on free ports, records their PIDs, and stops only what it started.
#
#   scripts/testenv.sh up      install + start; writes $FBS_TESTENV_DIR/env (shell exports)
#   scripts/testenv.sh down    stop what `up` started
#   scripts/testenv.sh status  show what runs
#
# FBS_TESTENV_DIR defaults to <repo>/.testenv. Idempotent: `up` twice starts nothing twice.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D=${FBS_TESTENV_DIR:-$ROOT/.testenv}
mkdir -p "$D/pids" "$D/logs"

log() { printf 'testenv: %s\n' "$*" >&2; }

# Debian packages the suite uses, by what needs them.
APT_PACKAGES=(
  python3-venv                 # the venv for Python test oracles (pykickstart)
  util-linux                   # unshare, for build isolation
)
# PyPI packages for test oracles, installed into the venv.
PIP_PACKAGES=(
  pykickstart                  # ksflatten, the oracle for kickstart flattening
)

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "installing packages needs root: run as root or install: $*"
    exit 3
  fi
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null; then
      log "missing packages and no apt-get: ${missing[*]}"; exit 3
    fi
    need_root "${missing[@]}"
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_venv() {
  local venv=$D/venv stamp=$D/venv/.fbs-packages want
  want=$(printf '%s\n' "${PIP_PACKAGES[@]}")
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  log "python venv with: ${PIP_PACKAGES[*]}"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  printf '%s' "$want" > "$stamp"
}

write_env() {
  {
    echo "export FBS_TESTENV_DIR='$D'"
    echo "export FBS_TEST_VENV='$D/venv'"
  } > "$D/env"
}

# Stop every process recorded under pids/ that is still ours (cwd or cmdline check).
stop_all() {
  local f pid
  for f in "$D"/pids/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

case "${1:-}" in
  up)
    install_apt
    install_venv
    write_env
    log "ready: source $D/env"
    ;;
  down)
    stop_all
    log "stopped"
    ;;
  status)
    for f in "$D"/pids/*.pid; do
      [ -e "$f" ] || continue
      pid=$(cat "$f"); n=$(basename "$f" .pid)
      if [ -d "/proc/$pid" ]; then echo "$n: running (pid $pid)"; else echo "$n: dead"; fi
    done
    ;;
  *)
    echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
