#!/usr/bin/env bash
# Install CELAE Workbench in the current user's application menu (freedesktop: Linux desktops).
#
# Writes ~/.local/share/applications/celae-workbench.desktop and the icons into
# ~/.local/share/icons/hicolor/, so the app is in the menu and a file manager offers it for
# audio files (double-click an MP3 -> the app opens with it loaded). The menu entry runs the
# bundle dist/celae-workbench/ if it was built, else the virtual environment's celae-workbench.
#   --uninstall  remove what an install wrote.
# XDG_DATA_HOME moves the target (tests point it at a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APPS=$DATA/applications
ICONS=$DATA/icons/hicolor
DESKTOP=$APPS/celae-workbench.desktop
SIZES="16 32 48 64 128 256"

refresh() {
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$APPS" || true; fi
  if command -v gtk-update-icon-cache >/dev/null; then
    gtk-update-icon-cache -q -t "$ICONS" 2>/dev/null || true
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$DESKTOP" "$ICONS/scalable/apps/celae-workbench.svg"
  for s in $SIZES; do rm -f "$ICONS/${s}x${s}/apps/celae-workbench.png"; done
  refresh
  echo "install-desktop: removed $DESKTOP and the icons"
  exit 0
fi

if [ -x "$ROOT/dist/celae-workbench/celae-workbench" ]; then
  EXEC=$ROOT/dist/celae-workbench/celae-workbench
elif [ -x "$ROOT/.venv/bin/celae-workbench" ]; then
  EXEC=$ROOT/.venv/bin/celae-workbench
else
  echo "install-desktop: neither dist/celae-workbench/ (make bundle) nor .venv (make setup)" \
       "has celae-workbench" >&2
  exit 1
fi

# The Exec key quotes an argument with reserved characters; backslash, quote, $ and ` are escaped
# inside the quotes (Desktop Entry spec, "The Exec key"), then backslashes once more for the
# string type, and sed's own & and | are escaped last.
quoted=$EXEC
if [[ "$EXEC" =~ [[:space:]\"\'\\\`\$\<\>\~\|\&\;\*\?\#\(\)] ]]; then
  esc=$(printf '%s' "$EXEC" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g')
  quoted="\"$esc\""
fi
sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

mkdir -p "$APPS" "$ICONS/scalable/apps"
sed -e "s|@EXEC@|$(sed_escape "$quoted")|" -e "s|@TRYEXEC@|$(sed_escape "$EXEC")|" \
  packaging/celae-workbench.desktop > "$DESKTOP.tmp"
mv "$DESKTOP.tmp" "$DESKTOP"
cp resources/icons/celae.svg "$ICONS/scalable/apps/celae-workbench.svg"
for s in $SIZES; do
  mkdir -p "$ICONS/${s}x${s}/apps"
  cp "resources/icons/celae-$s.png" "$ICONS/${s}x${s}/apps/celae-workbench.png"
done
refresh
echo "install-desktop: $DESKTOP runs $EXEC"
