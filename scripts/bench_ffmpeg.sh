#!/usr/bin/env bash
# Install Debian's ffmpeg for `make bench-codec`, which encodes the held-out music with Opus and
# MP3 to compare the models with. The app never needs it. Skipped when ffmpeg is on the PATH.
set -euo pipefail
if command -v ffmpeg >/dev/null 2>&1; then
  exit 0
fi
echo "bench: installing ffmpeg (Opus and MP3 encoders for the codec benchmark)"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
