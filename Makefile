# The two commands a newcomer needs: `make install`, then `make test`.
# Offline (CI, or no internet): DATAGOUV_SPECS_MIRROR=/path/to/specs make install
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: install deps specs generate compile peers lint test unit typecheck bench check-specs update-specs clean

install: deps specs generate compile ## venv + dependencies + specs + generated clients

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

deps: $(PY)
	$(PY) -m pip install -q -e '.[codegen,dev,dataframe,dask]'

specs: deps ## fetch the four specs (live, or DATAGOUV_SPECS_MIRROR) into specs/upstream/
	$(PY) scripts/fetch_specs.py

generate: ## regenerate generated/* from specs/upstream + specs/patches (checks the lock)
	$(PY) scripts/generate.py

compile: ## precompile bytecode (this machine sets PYTHONDONTWRITEBYTECODE=1)
	$(PY) -m compileall -q -j 0 overlay generated tools

peers: ## the real udata and api_tabular servers, each in its own venv under .peers/
	$(PY) scripts/install_peers.py

LINTED := overlay tools tests benchmarks scripts

typecheck: ## mypy --strict over overlay, tools, tests, benchmarks, scripts (files in pyproject.toml)
	$(BIN)/mypy

lint: typecheck ## ruff format --check, ruff check (rules in pyproject.toml), mypy --strict
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

test: peers lint ## lint, then the whole suite against the real local peers
	$(BIN)/pytest

unit: ## the offline suite: no peer server, no PostgreSQL, nothing under .peers/ (`peer` is set by fixture)
	$(BIN)/pytest -m "not peer"

bench: peers
	$(PY) benchmarks/run.py

check-specs: ## exit 0: unchanged, 1: upstream changed (diff printed), 2: fetch failed / invalid
	$(PY) -m tools.specpipeline check

update-specs: ## accept upstream changes: lock, regenerate, test, CHANGELOG entry
	$(PY) -m tools.specpipeline update
	$(MAKE) generate compile test

clean:
	rm -rf $(VENV) .peers generated/datagouv_* specs/upstream
