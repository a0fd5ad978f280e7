# The two set-up commands: `make demo` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install web lint typecheck pytest bench mutation clean prober

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The web map's third-party assets (Leaflet, Natural Earth borders) from npm into the package: web/build.mjs.
WEB_STAMP := src/deconfliction/web/static/vendor/README
$(WEB_STAMP): web/package.json web/package-lock.json web/build.mjs
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	node web/build.mjs

web: $(WEB_STAMP)

## Creates .venv, installs, creates the SQLite database, loads the demo and serves on 127.0.0.1:8000.
demo: $(STAMP) $(WEB_STAMP)
	$(BIN)/deconflict demo --serve

## ruff, mypy (strict on the domain) and the whole pytest suite.
test: $(STAMP) $(WEB_STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(WEB_STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -q --durations=15

bench: $(STAMP)
	$(BIN)/python bench/strategic.py

## InterUSS's DSS prober (interuss-monitoring, Python 3.13) in its own environment .venv-prober, for
## tests/dss/test_prober.py (docs/dss.md). Needs Python 3.13 (PATH or pyenv) and the package index.
prober:
	tools/prober-venv.sh .venv-prober

## Mutation testing of the pure core (docs/testing.md); not part of `make test`. Niced: it takes both cores.
mutation: $(STAMP)
	HYPOTHESIS_PROFILE=mutation nice -n 19 $(BIN)/python tools/mutation.py

clean:
	rm -rf $(VENV) .venv-prober mutants web/node_modules src/deconfliction/web/static/vendor var .pytest_cache .mypy_cache .ruff_cache .hypothesis
