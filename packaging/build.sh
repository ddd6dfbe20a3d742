#!/usr/bin/env bash
# Build the one-folder bundle dist/celae-workbench/ (the app + the CLI) with PyInstaller.
#
# Settings (environment variable or option):
#   TORCH_INDEX_URL / --torch-index-url URL  build in a separate venv (build/bundle-venv) whose
#       torch and torchaudio come from URL, e.g. https://download.pytorch.org/whl/cpu for a lean
#       CPU-only bundle (~0.85 GB instead of ~4.4 GB). Default: the torch of .venv, as installed.
#   CELAE_BUNDLE_CUDA=0 / --no-cuda  refuse to build unless torch is CPU-only (a release check).
#   BUNDLE_PYTHON=PATH  the Python whose packages go in the bundle (default .venv/bin/python).
#   --clean  drop PyInstaller's cache first (after a dependency change).
# Prints the build time and the bundle's size by component at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_INDEX_URL=${TORCH_INDEX_URL:-}
PY=${BUNDLE_PYTHON:-.venv/bin/python}
CLEAN=()
while [ $# -gt 0 ]; do
  case "$1" in
    --torch-index-url) TORCH_INDEX_URL=$2; shift 2 ;;
    --torch-index-url=*) TORCH_INDEX_URL=${1#*=}; shift ;;
    --no-cuda) export CELAE_BUNDLE_CUDA=0; shift ;;
    --clean) CLEAN=(--clean); shift ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# The build needs ~2x the bundle (work folder + dist); keep the machine usable for others.
free_gb=$(df -Pk . | awk 'NR==2 {print int($4 / 1048576)}')
if [ "$free_gb" -lt 12 ]; then
  echo "build.sh: only ${free_gb} GB free here; a CUDA bundle needs ~10 GB while building" >&2
  exit 1
fi

if [ ! -f resources/models/DEFAULT ]; then
  echo "build.sh: warning: resources/models/DEFAULT is missing (make demo-model): the bundle" \
       "will have no model until the user trains or opens one" >&2
fi

if [ -n "$TORCH_INDEX_URL" ]; then
  VENV=build/bundle-venv
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  echo "build.sh: installing torch from $TORCH_INDEX_URL into $VENV"
  # The same torch and torchaudio versions as pyproject.toml asks for, from that index.
  mapfile -t TORCH_REQS < <(python3 -c "import tomllib
for r in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']:
    if r.split('=')[0].split('>')[0].split('<')[0].strip() in ('torch', 'torchaudio'): print(r)")
  "$VENV/bin/python" -m pip install -q "${TORCH_REQS[@]}" --index-url "$TORCH_INDEX_URL"
  # Not editable: the bundle must not depend on the checkout's import hooks.
  "$VENV/bin/python" -m pip install -q ".[bundle]"
  PY=$VENV/bin/python
fi

"$PY" -c "import torch; print(f'build.sh: torch {torch.__version__}',
  f'(CUDA {torch.version.cuda})' if torch.version.cuda else '(CPU only)')"

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm "${CLEAN[@]}" --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/celae.spec
end=$(date +%s)

BUNDLE=dist/celae-workbench
# Atomic writes leave private (0600) files; anyone who may run the bundle must read them.
chmod -R a+rX "$BUNDLE"
echo "build.sh: built $BUNDLE in $((end - start)) s"
echo "build.sh: size by component:"
du -sh "$BUNDLE"
( cd "$BUNDLE/_internal" && du -sh -- * 2>/dev/null | sort -rh | head -12 )
if [ -d "$BUNDLE/_internal/nvidia" ]; then
  ( cd "$BUNDLE/_internal" && du -sh nvidia/* | sort -rh | head -6 )
fi
