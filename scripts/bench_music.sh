#!/usr/bin/env bash
# Install the real recorded music `make bench-rd` scores on: Debian's freely licensed Warzone 2100
# soundtrack (GPL-2+, 84 MB of OGG under /usr/share/games). The benchmark decodes it in memory
# only; its audio is never copied into the project. Skipped when already installed.
set -euo pipefail
PACKAGE=warzone2100-music
if dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q "ok installed"; then
  exit 0
fi
echo "bench: installing $PACKAGE (real music for the rate-distortion benchmark)"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
