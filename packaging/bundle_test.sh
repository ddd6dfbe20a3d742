#!/usr/bin/env bash
# Check that the built bundle works away from the development environment (make bundle-test).
#
# Runs a hard-linked copy of dist/celae-workbench/ from a temporary folder, with a clean
# environment (no virtual environment on PATH, no PYTHONPATH, a throw-away HOME), and checks:
# the CLI starts, lists models, reconstructs a bundled demo song with the bundled model, writes
# demo data and trains a tiny model (worker threads and processes in a frozen program), and
# `celae-workbench --selftest` passes offscreen. Then times --selftest of the bundle against
# the venv's app. Prints PASS/FAIL per check; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUNDLE=$ROOT/dist/celae-workbench
[ -x "$BUNDLE/celae" ] || { echo "bundle-test: $BUNDLE not built (make bundle)"; exit 1; }

WORK=$(mktemp -d /tmp/celae-bundle-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# A hard-linked copy costs no disk and proves the bundle does not depend on where it was built.
cp -al "$BUNDLE" "$WORK/celae-workbench" 2>/dev/null || cp -a "$BUNDLE" "$WORK/celae-workbench"
APP=$WORK/celae-workbench
mkdir -p "$WORK/home" "$WORK/run"
cd "$WORK/run"

clean() {
  env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" "$@"
}
failed=0
check() {
  local name=$1; shift
  local t0 t1 rc
  t0=$(date +%s.%N)
  clean "$@" >"$WORK/out.txt" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  if [ $rc -eq 0 ]; then
    printf 'PASS  %-28s %6.1f s\n' "$name" "$(echo "$t1 - $t0" | bc)"
  else
    printf 'FAIL  %-28s (exit %d)\n' "$name" "$rc"; failed=1
  fi
  tail -n 8 "$WORK/out.txt" | sed 's/^/      | /'
}

echo "bundle-test: $(date -u '+%F %T') UTC, bundle $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
echo "bundle-test: running a copy from $WORK/run, env: $(clean env | tr '\n' ' ')"
check "celae --version" "$APP/celae" --version
check "celae models" "$APP/celae" models
check "celae demo-data" "$APP/celae" demo-data "$WORK/data" --songs-per-genre 1 --seconds 6 -q
check "celae train (1 epoch)" "$APP/celae" train "$WORK/data" --epochs 1 --batch-size 2 \
  --max-clips 8 --device cpu --out "$WORK/model" -q

SONG=$(ls "$APP"/_internal/resources/demo/*.mp3 2>/dev/null | head -1)
[ -n "$SONG" ] || { echo "FAIL  no demo song in the bundle's resources/demo"; failed=1; }
if [ -f "$APP/_internal/resources/models/DEFAULT" ]; then
  check "celae reconstruct (bundled)" "$APP/celae" reconstruct "$SONG" --duration 10 \
    --out "$WORK/x.wav"
  [ -s "$WORK/x.wav" ] || { echo "FAIL  reconstruct wrote no x.wav"; failed=1; }
  check "celae-workbench --selftest" "$APP/celae-workbench" --selftest
  # By name, so the venv's app times the same model from its own resources/ folder.
  SELFTEST=("$APP/celae-workbench" --selftest --model \
    "$(tr -d '[:space:]' < "$APP/_internal/resources/models/DEFAULT")")
else
  echo "FAIL  no bundled model (resources/models/DEFAULT): run make demo-model, then rebuild"
  failed=1
  SELFTEST=("$APP/celae-workbench" --selftest --model "$WORK/model")
fi
check "celae reconstruct (trained)" "$APP/celae" reconstruct "$SONG" --duration 10 \
  --model "$WORK/model" --out "$WORK/y.wav"
check "celae-workbench --selftest (trained)" "$APP/celae-workbench" --selftest \
  --model "$WORK/model"
# What a double-click in a file manager does: the desktop entry's Exec passes the file (%F).
TRAIN_SONG=$(find "$WORK/data" -type f -name '*.wav' | sort | head -1)
check "celae-workbench --selftest FILE" "$APP/celae-workbench" --selftest --model "$WORK/model" \
  "${TRAIN_SONG:-missing.wav}"
grep -q "song=$(basename "${TRAIN_SONG:-missing.wav}")" "$WORK/out.txt" \
  && echo "PASS  the app opened the file given on its command line" \
  || { echo "FAIL  the app did not open the file given on its command line"; failed=1; }
LOG=$(find "$WORK/home" -name 'cli.log' | head -1)
if [ -n "$LOG" ]; then echo "PASS  log file written: ~/${LOG#"$WORK/home/"}"
else echo "FAIL  no cli.log under the user's log folder"; failed=1; fi
# Which PortAudio the app loads, from the dynamic linker's own trace: the bundled one, not the
# system's (a user's machine may have none).
clean LD_DEBUG=files LD_DEBUG_OUTPUT="$WORK/ld" "${SELFTEST[@]}" >/dev/null 2>&1
loaded=$(grep -ho 'calling init: [^ ]*libportaudio[^ ]*' "$WORK"/ld.* 2>/dev/null | head -1)
loaded=${loaded#calling init: }
case "$loaded" in
  "$APP"/*) echo "PASS  PortAudio loaded from the bundle: ${loaded#"$WORK"/}" ;;
  "") echo "FAIL  the app never loaded PortAudio"; failed=1 ;;
  *) echo "FAIL  PortAudio loaded from outside the bundle: $loaded"; failed=1 ;;
esac
rm -f "$WORK"/ld.*

echo "bundle-test: start-up, --selftest wall time, bundle vs venv (${SELFTEST[*]:1}):"
for run in 1 2; do
  check "bundle --selftest #$run" "${SELFTEST[@]}"
done
if [ -x "$ROOT/.venv/bin/celae-workbench" ]; then
  for run in 1 2; do
    check "venv --selftest #$run" "$ROOT/.venv/bin/celae-workbench" "${SELFTEST[@]:1}"
  done
fi

if [ $failed -eq 0 ]; then echo "bundle-test: all checks passed"; else echo "bundle-test: FAILED"; fi
exit $failed
