# CELAE Workbench. `make run` opens the app, `make test` runs the whole suite; both set up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test lint bench bench-rd demo-model demo-songs fuzz bundle bundle-test install-desktop clean

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/bin/celae-workbench

lint: setup
	$(VENV)/bin/ruff check core celae_gui tests scripts
	$(VENV)/bin/lint-imports

test: setup lint
	$(PY) -m pytest -q tests

bench: setup
	$(PY) scripts/bench.py

demo-model: setup
	$(PY) scripts/make_demo_model.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache
fuzz: setup
	$(PY) scripts/fuzz_audio.py --count 10000
