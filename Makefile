# Errand: the commands a newcomer and CI use. `make run` and `make test` need nothing but Python 3.11.

VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
PYTHON      ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
PYTEST_ARGS ?=
LINT_PATHS  := domain providers api workers ops
TORCH       := 2.13.0
# torch is pinned and installed before the `rag` extra: the CPU build; unpinned it is a CUDA one.

.DEFAULT_GOAL := help

.PHONY: help venv run test lint fmt bench soak chaos eval crossval eval-rag train clean reset-data

help:
	@echo "make run         start the whole system locally (embedded PostgreSQL and Redis unless URLs are set)"
	@echo "make test        run the test suite (PYTEST_ARGS='-k name' to narrow it)"
	@echo "make lint        ruff, ruff format --check, mypy --strict, import contracts"
	@echo "make fmt         format and auto-fix"
	@echo "make bench       run the benchmarks"
	@echo "make soak        10 minutes at 200 msg/s: is memory flat? (SOAK_SECONDS, SOAK_RATE)"
	@echo "make chaos       kill workers, scheduler and Redis under load; check nothing is lost or doubled"
	@echo "make eval        intent engine quality on held-back data"
	@echo "make crossval    intent engine: 5-fold out-of-fold recall on train + validation (~10 min)"
	@echo "make eval-rag    knowledge answers: recall@5 and no-answer accuracy on the shipped corpus"
	@echo "make train       retrain the shipped intent classifier (~15 min)"
	@echo "make clean       remove caches and build output (keeps .data)"
	@echo "make reset-data  stop leftover local servers and delete .data"

SENTENCE_MODEL := models/onnx/all-minilm-l6-v2/model.onnx

# The stamp makes `make venv` a no-op until pyproject.toml changes; the ONNX export of the sentence
# model (the intent parser's second opinion, ~15 s, not in git) is made once after the install.
venv: $(STAMP) $(SENTENCE_MODEL)

$(SENTENCE_MODEL): $(STAMP) providers/minilm_onnx.py
	$(PY) -m providers.minilm_onnx

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==$(TORCH)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,rag]'
	@touch $@

run: venv
	$(PY) -m ops.run

# pytest's own exit code is kept in .pytest-exit: make reports any failure as 2, and CI must
# tell "no tests collected" (5) apart from a failure.
test: venv
	@rc=0; $(PY) -m pytest -q $(PYTEST_ARGS) || rc=$$?; echo $$rc > .pytest-exit; exit $$rc

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy $(LINT_PATHS)
	$(VENV)/bin/lint-imports

fmt: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: venv
	$(PY) -m bench

# A sustained run (SOAK_SECONDS, default 600, at SOAK_RATE 200 msg/s); writes docs/soak.md.
soak: venv
	$(PY) -m bench.soak

# CHAOS_SECONDS (default 180) of load and faults; exits non-zero if anything was lost or doubled.
chaos: venv
	$(PY) -m ops.chaos

# Intent engine quality on held-back data (needs ../shared/data/nlu or ERRAND_NLU_DATA).
eval: venv
	$(PY) -m eval

# Out-of-fold recall on train + validation: steadier than the small test split for judging changes.
crossval: venv
	$(PY) -m nlu.crossval

# Knowledge answers: retrieval quality on eval/knowledge (CC0 corpus and questions).
eval-rag: venv
	$(PY) -m eval.rag

# Retrain the shipped intent classifier (models/intent_classifier.npz).
train: venv
	$(PY) -m nlu.train

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

reset-data: venv
	$(PY) -m ops.run reset
