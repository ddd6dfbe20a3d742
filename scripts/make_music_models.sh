#!/usr/bin/env bash
# Rebuild the bundled real music models (`make music-models`): CELCodec4 and CELCodec64 trained
# one after the other for MINUTES (default 30) of wall time each, two threads each (the
# machine's two cores), on the train side of bench-out/real_music/ (`make music`); then each is
# bundled with its music note and a style classifier, CELCodec4 becomes the default, and both
# are scored on the held-out test tracks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
MINUTES=${MINUTES:-30}
DATA=bench-out/real_music/train
OUT=bench-out/models
LABEL="real music: 6 game soundtracks"
# Decode the corpus into the clip cache once, so the two trainings do not both decode it.
$PY -c "from core.data import load_clips, scan_dataset; load_clips(scan_dataset('$DATA'))"
for arch in 4 64; do
  $PY -m core.cli train "$DATA" --arch "CELCodec$arch" --crop 8192 --batch-size 8 --lr 2e-3 \
    --grad-clip 1 --minutes "$MINUTES" --threads 2 --valid-fraction 0.1 \
    --out "$OUT/celcodec$arch-real" > "$OUT/train$arch.log" 2>&1
done
for m in celcodec4-real celcodec64-real; do
  $PY scripts/bundle_model.py "$OUT/$m" "$m"
  $PY -m core.cli classify train "$DATA" --model "resources/models/$m" \
    --out "resources/models/$m/classifier" --clips-per-song 12 --head encoder --members 5 \
    --no-baselines --trained-on "$LABEL"
  $PY scripts/bundle_model.py --classifier "$m"
done
echo celcodec4-real > resources/models/DEFAULT
$PY scripts/eval_music.py --out bench-out/eval_real.md
