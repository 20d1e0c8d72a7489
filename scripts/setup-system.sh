#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing.
# `npm test` runs it first (the "pretest" script), so a fresh Debian machine
# needs nothing done by hand. When everything is present it only checks paths
# (no apt-get), so it is fast. Safe to run repeatedly.
# Installing needs root, or sudo; without either it fails with the command to run.
set -euo pipefail

# Each line: the binary the tests run (the exact path where a test hard-codes it),
# and the Debian package that provides it.
checks=(
  "openssl openssl"                             # test/certs.ts: TLS/mTLS certificates
  "${GOMS_ETCD_BIN:-/usr/bin/etcd} etcd-server" # test/registry/etcd-server.ts
  "supervisord supervisor"                      # test/admin/supervisord.ts
  "/usr/bin/chromium chromium"                  # test/admin/browser.test.ts, via playwright-core (no browser download)
)

present() {
  case "$1" in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
need=()
for line in "${checks[@]}"; do
  read -r bin pkg <<<"$line"
  if ! present "$bin"; then
    missing+=("$bin")
    need+=("$pkg")
  fi
done
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: openssl, etcd, supervisord and chromium present"
  exit 0
fi

fail() {
  echo "setup-system: ERROR: $*" >&2
  echo "setup-system: the test suite needs: ${missing[*]}" >&2
  echo "setup-system: install them with: apt-get update && apt-get install -y ${need[*]}" >&2
  exit 1
}

echo "setup-system: missing ${missing[*]}; installing Debian packages: ${need[*]}"
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (this script installs Debian packages only)"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "not root and sudo is not installed"
  # Without a terminal sudo cannot ask for a password: fail instead of hanging.
  if [ -t 0 ]; then SUDO=(sudo); else SUDO=(sudo -n); fi
  echo "setup-system: not root, using ${SUDO[*]}"
fi

# Another apt run on the same machine holds the dpkg lock: wait for it rather than fail.
apt=(apt-get -o DPkg::Lock::Timeout=300)
"${SUDO[@]}" "${apt[@]}" update -qq || fail "apt-get update failed"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${need[@]}" \
  || fail "apt-get install ${need[*]} failed"

for line in "${checks[@]}"; do
  read -r bin pkg <<<"$line"
  present "$bin" || fail "$bin still missing after installing $pkg"
done
echo "setup-system: installed ${need[*]}"
