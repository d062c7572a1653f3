#!/usr/bin/env bash
# Install Debian's chromium when it is missing: the HTML report test renders the page in it, headless.
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian's chromium (for the HTML report test)..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
