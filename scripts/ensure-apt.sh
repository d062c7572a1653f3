#!/usr/bin/env bash
# Install a Debian package when its command is missing: ensure-apt.sh PACKAGE COMMAND [WHY]
# (the tests need prometheus/promtool and chromium; a fresh machine has neither).
set -euo pipefail
package=$1 command=$2 why=${3:-}
if command -v "$command" >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian's $package${why:+ ($why)}..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$package" >/dev/null
command -v "$command" >/dev/null
