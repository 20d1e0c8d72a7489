#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing.
# Safe to run repeatedly. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v supervisord >/dev/null 2>&1 || need+=(supervisor)
# The admin console browser test drives Debian chromium with playwright-core (no browser download).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-system: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
