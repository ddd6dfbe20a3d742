# CELAE Workbench. `make run` opens the app, `make test` runs the whole suite; both set up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test lint bench bench-rd bench-codec demo-model demo-songs music music-models fuzz bundle bundle-test install-desktop clean

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/bin/celae-workbench

lint: setup
	$(VENV)/bin/ruff check core celae_gui tests scripts packaging
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_layout.py

test: setup lint
	$(PY) -m pytest -q tests

bench: setup
	$(PY) scripts/bench.py

# Training budget per model, s (the issue allows up to 1800); two models train at a time.
RD_BUDGET ?= 600
bench-rd: setup
	@scripts/bench_music.sh
	$(PY) scripts/bench_rd.py --budget-seconds $(RD_BUDGET) --jobs 2 --save-models bench-out/rd-models

# Bundled models at 32/16/8 bits against Opus, MP3 and pool+interp on held-out real music
# (ViSQOL costs about 5 s of CPU a clip per system: 12 clips are some 20 CPU-minutes).
CODEC_CLIPS ?= 12
bench-codec: setup
	@scripts/bench_music.sh
	@scripts/bench_ffmpeg.sh
	$(PY) scripts/bench_codec.py --clips $(CODEC_CLIPS) --jobs 2 --out bench-out/codec.md

demo-model: setup
	$(PY) scripts/make_demo_model.py --no-default

# The real_music corpus: installs the seven allowed Debian soundtrack packages (apt-get, as root)
# and lays them out under bench-out/real_music/ split by whole track (see scripts/music_corpus.py).
music: setup
	$(PY) scripts/music_corpus.py

# The bundled real_music models: two 30-minute trainings one after the other, two threads each, then the
# classifiers, the notes and the held-out evaluation (see README, "Models trained on real music").
music-models: music
	scripts/make_music_models.sh

clean:
	rm -rf build dist .pytest_cache .ruff_cache
fuzz: setup
	$(PY) scripts/fuzz_audio.py --count 10000

# The one-folder bundle dist/celae-workbench/ (settings: see packaging/build.sh, e.g.
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu for a CPU-only bundle).
bundle: setup
	nice -n 10 packaging/build.sh

# Slow (builds, then runs the bundle away from the venv); not part of `make test`.
bundle-test: bundle
	set -o pipefail; packaging/bundle_test.sh 2>&1 | tee bundle-test.log

install-desktop:
	packaging/install_desktop.sh
