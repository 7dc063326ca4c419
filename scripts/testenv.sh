#!/usr/bin/env bash
# The project's test environment: installs what the test suite needs (when missing), starts
# the servers it uses on free ports, records their PIDs, and stops only what it started.
#
#   scripts/testenv.sh up      install + start; writes $FBS_TESTENV_DIR/env (shell exports)
#   scripts/testenv.sh down    stop what `up` started (the test hosts too: no namespace,
#                              link or process is left)
#   scripts/testenv.sh status  show what runs
#   scripts/testenv.sh install-builder   only the native builder's packages (no test tools)
#
# FBS_TESTENV_DIR defaults to <repo>/.testenv. Idempotent: `up` twice starts nothing twice.
# `up` also builds the RPM fixture repositories (scripts/fixtures/make-repo.sh) into
# $FBS_TESTENV_DIR/fixtures; a rerun with unchanged fixture sources does nothing there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D=${FBS_TESTENV_DIR:-$ROOT/.testenv}
mkdir -p "$D/pids" "$D/logs"

log() { printf 'testenv: %s\n' "$*" >&2; }

# Debian packages the native builder needs (also installed by scripts/quickstart.sh).
BUILDER_APT_PACKAGES=(
  util-linux                   # unshare, for build isolation
  rpm                          # rpm --root; rpmbuild for the sample repository
  createrepo-c                 # repo metadata for DVDs, side repos and the sample repository
  dnf                          # dnf --installroot, the native builder's installer
  squashfs-tools               # mksquashfs / unsquashfs
  xorriso                      # ISO authoring and inspection
  isomd5sum                    # implantisomd5 / checkisomd5
  busybox-static               # /bin/sh of the sample roots, the marker initramfs
  cpio                         # initramfs packing, RPM payload extraction
  isolinux syslinux-common     # BIOS El Torito boot (isolinux.bin, ldlinux.c32, isohdpfx.bin)
  grub-pc-bin grub-common      # grub-mkrescue, BIOS modules
  grub-efi-amd64-bin           # grub's x86_64-efi modules, for UEFI-bootable ISOs
  mtools dosfstools            # the EFI system partition image (mformat/mcopy, mkfs.vfat)
)
# Debian packages only the test suite needs.
TEST_APT_PACKAGES=(
  python3-venv                 # the venv for Python test oracles (pykickstart)
  rpm2cpio                     # RPM payload extraction in tests
  ovmf                         # UEFI firmware for QEMU boot tests
  redis-server                 # the fleet's broker (job store, queues, log streams)
  chromium chromium-driver     # the monitor's browser test (driven by playwright-core)
  openssh-server               # sshd of the deploy tests' hosts (scripts/testenv/hosts.sh)
  systemd                      # systemd-analyze, to verify the deployed units
  iproute2                     # network namespaces and the bridge of the test hosts
)
# qemu-system-x86 is installed apart, matched to the installed qemu-utils (see install_qemu).
# Fedora equivalents, for the dnf branch (untested).
DNF_PACKAGES=(
  python3 util-linux rpm-build createrepo_c dnf squashfs-tools xorriso isomd5sum busybox cpio
  syslinux grub2-pc-modules grub2-efi-x64-modules grub2-tools grub2-tools-extra mtools dosfstools
  edk2-ovmf qemu-system-x86 qemu-img redis
)
# PyPI packages for test oracles, installed into the venv.
PIP_PACKAGES=(
  pykickstart                  # ksflatten, the oracle for kickstart flattening
  aiosmtpd                     # the SMTP server that stores test mail in a Maildir
  pyftpdlib                    # the FTP staging server (scripts/testenv/ftpd.py)
  pyopenssl                    # pyftpdlib's explicit FTPS (AUTH TLS)
  requests python-dateutil six defusedxml  # what the koji client library needs at run time
  schemathesis                 # property tests of the monitor's API against its OpenAPI document
)
# PyPI packages installed without their dependencies: koji's requests-gssapi is only for
# Kerberos logins, which the tests' anonymous calls against the Koji stand-in never make.
PIP_NODEPS_PACKAGES=(
  koji                         # the real Koji client: the oracle for the Koji hub stand-in
)
# npm packages for the browser test, installed under $D/node. playwright-core never downloads
# a browser: the test drives Debian's /usr/bin/chromium.
NPM_PACKAGES=(
  playwright-core@1.64
)

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "installing packages needs root: run as root or install: $*"
    exit 3
  fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# apt runs with its own package lists under $D/apt: the system's sources plus the -backports
# suite of the same mirror (qemu may have to come from there). Private lists cannot be dropped
# by another apt-get update running meanwhile, and the machine's apt configuration is left alone.
APT_DIR=$D/apt
APT_OPTS=(
  -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
  -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o DPkg::Lock::Timeout=600
)
apt_sources() {
  local codename mirror f targets
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  rm -rf "$APT_DIR/sources.list.d"
  mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial"
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    if [ -e "$f" ]; then cp "$f" "$APT_DIR/sources.list.d/"; fi
  done
  [ -n "$codename" ] || return 0
  targets=$(apt-get indextargets --format '$(SITE) $(RELEASE)' 'Created-By: Packages')
  if ! awk -v r="$codename-backports" '$2 == r { found = 1 } END { exit !found }' <<<"$targets"; then
    mirror=$(awk -v r="$codename" '$2 == r { print $1; exit }' <<<"$targets")
    [ -n "$mirror" ] || return 0
    printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\n' "$mirror" "$codename" \
      > "$APT_DIR/sources.list.d/fbs-testenv-backports.sources"
  fi
}

# qemu-system-x86 must come from the same release as qemu-utils: on Debian 12, installing
# bookworm's qemu-system-x86 next to a bookworm-backports qemu-utils removes qemu-utils.
# So: a backports qemu-utils gets qemu-system-x86 from backports (both with -t, in a transaction
# of their own); otherwise both come from the default release.
install_qemu() {
  local codename v
  installed qemu-system-x86 && return 0
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  v=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
  if [[ $v == *~bpo* ]]; then
    log "apt-get install -t $codename-backports qemu-system-x86 qemu-utils (qemu-utils $v is from backports)"
    apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends -t "$codename-backports" \
      qemu-system-x86 qemu-utils >/dev/null
  else
    log "apt-get install qemu-system-x86 qemu-utils"
    apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends qemu-system-x86 qemu-utils >/dev/null
  fi
  qemu-img --version >/dev/null || { log "qemu-img is broken after installing qemu"; exit 3; }
  qemu-system-x86_64 --version >/dev/null
}

# install_apt [builder]: the builder's packages only, or (default) everything the tests need.
install_apt() {
  local missing=() want=("${BUILDER_APT_PACKAGES[@]}") qemu=1
  if [ "${1:-}" = builder ]; then qemu=0; else want+=("${TEST_APT_PACKAGES[@]}"); fi
  for p in "${want[@]}"; do
    installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ] || { [ $qemu = 1 ] && ! installed qemu-system-x86; }; then
    need_root "${missing[@]}" qemu-system-x86
    export DEBIAN_FRONTEND=noninteractive
    apt_sources
    apt-get "${APT_OPTS[@]}" update -qq
    if [ ${#missing[@]} -gt 0 ]; then
      log "apt-get install ${missing[*]}"
      apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if [ $qemu = 1 ]; then install_qemu; fi
  fi
}

install_dnf() {
  local missing=()
  for p in "${DNF_PACKAGES[@]}"; do
    rpm -q --quiet "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  need_root "${missing[@]}"
  log "dnf install ${missing[*]}"
  dnf install -y -q --setopt=install_weak_deps=False "${missing[@]}"
}

install_packages() {
  if command -v apt-get >/dev/null; then
    install_apt "${1:-}"
  elif command -v dnf >/dev/null; then
    install_dnf
  else
    log "neither apt-get nor dnf: install the test dependencies by hand"; exit 3
  fi
}

install_venv() {
  local venv=$D/venv stamp=$D/venv/.fbs-packages want
  want=$(printf '%s\n' "${PIP_PACKAGES[@]}")
  want+=$(printf '\nno-deps %s' "${PIP_NODEPS_PACKAGES[@]}")
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  log "python venv with: ${PIP_PACKAGES[*]}"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "${PIP_NODEPS_PACKAGES[@]}"
  printf '%s' "$want" > "$stamp"
}

install_node() {
  local dir=$D/node stamp=$D/node/.fbs-packages want
  want=$(printf '%s\n' "${NPM_PACKAGES[@]}")
  if [ -d "$dir/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  command -v npm >/dev/null || { log "npm is missing: install Node.js (apt-get install nodejs npm)"; exit 3; }
  log "npm packages: ${NPM_PACKAGES[*]}"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || printf '{ "name": "fbs-testenv", "private": true }\n' > "$dir/package.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$dir" --no-audit --no-fund --silent "${NPM_PACKAGES[@]}"
  printf '%s' "$want" > "$stamp"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One redis-server per test run, on a free loopback port, append-only in its own dir. Tests
# share it through per-test key prefixes; tests that restart Redis start their own.
start_redis() {
  local dir=$D/redis pidf=$D/pids/redis.pid port
  mkdir -p "$dir"
  if [ -f "$pidf" ] && [ -d "/proc/$(cat "$pidf")" ] && [ -f "$dir/port" ]; then
    REDIS_PORT=$(cat "$dir/port"); return
  fi
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --pidfile "$pidf" \
    --dir "$dir" --logfile "$D/logs/redis.log" --save '' --appendonly yes
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { log "redis-server did not start (see $D/logs/redis.log)"; exit 3; }
  echo "$port" > "$dir/port"
  REDIS_PORT=$port
}

# One SMTP server per test run (aiosmtpd's Mailbox handler: every message lands in a Maildir).
start_smtp() {
  local dir=$D/smtp pidf=$D/pids/smtp.pid port
  mkdir -p "$dir"
  if [ -f "$pidf" ] && [ -d "/proc/$(cat "$pidf")" ] && [ -f "$dir/port" ]; then
    SMTP_PORT=$(cat "$dir/port"); return
  fi
  port=$(free_port)
  setsid "$D/venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" \
    -c aiosmtpd.handlers.Mailbox "$dir/Maildir" </dev/null >"$D/logs/smtp.log" 2>&1 &
  echo $! > "$pidf"
  for _ in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.1
  done
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null \
    || { log "the SMTP server did not start (see $D/logs/smtp.log)"; exit 3; }
  echo "$port" > "$dir/port"
  SMTP_PORT=$port
}

# A range of $1 consecutive free loopback ports (the FTP server's passive range).
free_range() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(40000, 60000 - n)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(f"{base}-{base + n - 1}"); break
else:
    sys.exit("no free port range")
PY
}

# One FTP server per test run (pyftpdlib, scripts/testenv/ftpd.py): a user account and
# anonymous write, both rooted at $D/ftp/root, passive ports from a fixed range.
start_ftp() {
  local dir=$D/ftp pidf=$D/pids/ftp.pid port range
  mkdir -p "$dir/root"
  if [ ! -f "$dir/password" ]; then
    python3 -c 'import secrets; print("ftp-" + secrets.token_hex(12))' > "$dir/password"
    chmod 600 "$dir/password"
  fi
  FTP_USER=fbs-stager
  FTP_PASSWORD=$(cat "$dir/password")
  if [ -f "$pidf" ] && [ -d "/proc/$(cat "$pidf")" ] && [ -f "$dir/port" ]; then
    FTP_PORT=$(cat "$dir/port"); return
  fi
  port=$(free_port)
  range=$(free_range 10)
  FBS_FTPD_PASSWORD=$FTP_PASSWORD setsid "$D/venv/bin/python" "$ROOT/scripts/testenv/ftpd.py" \
    --port "$port" --root "$dir/root" --passive-ports "$range" --user "$FTP_USER" \
    --log "$D/logs/ftp.log" </dev/null >>"$D/logs/ftp.log" 2>&1 &
  echo $! > "$pidf"
  for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.1
  done
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null \
    || { log "the FTP server did not start (see $D/logs/ftp.log)"; exit 3; }
  echo "$port" > "$dir/port"
  FTP_PORT=$port
}

write_env() {
  {
    echo "export FBS_TESTENV_DIR='$D'"
    echo "export FBS_TEST_VENV='$D/venv'"
    echo "export FBS_TEST_FIXTURES='$D/fixtures'"
    echo "export FBS_TEST_KOJI_FIXTURES='$D/koji-fixtures'"
    echo "export FBS_TEST_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'"
    echo "export FBS_TEST_SMTP_PORT='$SMTP_PORT'"
    echo "export FBS_TEST_MAILDIR='$D/smtp/Maildir'"
    echo "export FBS_TEST_FTP_PORT='$FTP_PORT'"
    echo "export FBS_TEST_FTP_ROOT='$D/ftp/root'"
    echo "export FBS_TEST_FTP_USER='$FTP_USER'"
    echo "export FBS_TEST_FTP_PASSWORD='$FTP_PASSWORD'"
    echo "export FBS_TEST_FTPD='$ROOT/scripts/testenv/ftpd.py'"
    echo "export FBS_TEST_NODE_MODULES='$D/node/node_modules'"
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
    install_packages
    install_venv
    install_node
    FBS_APT_DIR=$APT_DIR "$ROOT/scripts/fixtures/make-repo.sh" "$D/fixtures"
    "$ROOT/scripts/fixtures/make-koji.sh" "$D/koji-fixtures"
    start_redis
    start_smtp
    start_ftp
    write_env
    # The deploy tests' hosts h1..h4 (network namespaces with their own sshd and overlays).
    "$ROOT/scripts/testenv/hosts.sh" up
    cat "$D/hosts.env" >> "$D/env"
    log "ready: source $D/env"
    ;;
  install-builder)
    install_packages builder
    ;;
  down)
    "$ROOT/scripts/testenv/hosts.sh" down || true
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
