#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/browser), from Debian's packages: Playwright drives it through
# executable_path, so no browser build is ever downloaded. Does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-browser: /usr/bin/chromium is missing and this user cannot apt-get install it" >&2
    exit 1
  fi
fi
echo "==> installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium chromium-driver
/usr/bin/chromium --version
