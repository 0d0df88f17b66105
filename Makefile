# Two commands for a newcomer: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast soak postgres-server libreoffice lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "'$(PYTHON) -m venv' failed: on Debian/Ubuntu run: sudo apt-get install python3-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/advice-desk

# Every test runs on SQLite and on a PostgreSQL server that the session starts itself
# (tests/postgres.py); without the server binaries the PostgreSQL half is skipped.
test: lint postgres-server libreoffice
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# The SQLite half alone: no server needed.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -m "not postgres" $(PYTEST_ARGS)

# The fault tests again with more kill -9s of a writer (SOAK_KILLS, default 250; the suite does 30).
SOAK_KILLS ?= 250
soak: $(STAMP)
	ADVICE_DESK_SOAK_KILLS=$(SOAK_KILLS) $(BIN)/python -m pytest -p no:cacheprovider -s \
	    tests/test_faults.py -k killed $(PYTEST_ARGS)

# Debian's server binaries (/usr/lib/postgresql/*/bin), installed when missing if we are root;
# otherwise the tests say how to get them. Never fails the build.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
	|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	     && echo "Installing the PostgreSQL server for the tests (apt-get install postgresql)" \
	     && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	          apt-get install -y -qq --no-install-recommends postgresql; } >/dev/null 2>&1; } \
	|| echo "PostgreSQL server not installed: its tests will be skipped"

# LibreOffice Calc, which reads our CSV files back as a spreadsheet would (tests/
# test_spreadsheets.py): installed when missing if we are root (58 packages, ~200 MB, ~40 s
# here); otherwise those tests are skipped, saying why. Never fails the build.
libreoffice:
	@command -v soffice >/dev/null \
	|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	     && echo "Installing LibreOffice Calc for the spreadsheet tests (apt-get install libreoffice-calc-nogui)" \
	     && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	          apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui; } >/dev/null 2>&1; } \
	|| echo "LibreOffice not installed: the spreadsheet tests will be skipped"

# ruff, mypy (strict for the core, default settings for the GUI) and the import-linter contracts
# of pyproject.toml (which package may import which).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
