#!/usr/bin/env bash
# Set the project up on a Debian machine with Python 3.11: the Debian packages it needs, a
# virtual environment in .venv, and the project installed (editable) with its test extras.
# Idempotent: when nothing changed it only checks, in well under 5 s.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.setup-stamp

# Qt offscreen + PortAudio; real windows under Xvfb; a PulseAudio null sink for sound tests;
# a C++ compiler and Python headers for visqol-python's libsvm, which PyPI ships as source only.
DEB_PACKAGES="libgl1 libegl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 libportaudio2
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-shape0 libxkbcommon-x11-0 pulseaudio pulseaudio-utils libasound2-plugins g++ python3-dev"

missing=$(dpkg-query -W -f='${Package} ${Status}\n' $DEB_PACKAGES 2>/dev/null \
  | awk '$NF != "installed" {print $1}'; for p in $DEB_PACKAGES; do
    dpkg-query -W "$p" >/dev/null 2>&1 || echo "$p"; done)
missing=$(echo "$missing" | sort -u | tr '\n' ' ' | xargs || true)
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages: $missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
echo "setup: installing the project into $VENV (first time: about a minute)"
log=$VENV/setup.log
if ! "$VENV/bin/python" -m pip install -e ".[test,bundle]" >"$log" 2>&1; then
  grep -v "is ignored: it is neither" "$log" | tail -30 >&2
  echo "setup: pip failed (full log: $log)" >&2
  exit 1
fi
"$VENV/bin/python" -c "import torch, torchaudio, PySide6, pyqtgraph, soundfile, soxr, sklearn" \
  || { echo "setup: the install is incomplete (see pip's output above)" >&2; exit 1; }
echo "$want" > "$STAMP"
