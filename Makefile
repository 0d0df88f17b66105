# Two commands for a newcomer: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast soak postgres-server libreoffice lint bench clean package \
	package-tools icons

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "'$(PYTHON) -m venv' failed: on Debian/Ubuntu run: sudo apt-get install python3-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	@touch $(STAMP)

# On Linux with an X11 display, packaging/qt-libs.sh first names the system libraries Qt's
# X11 plugin lacks here (found with ldd) and the one apt-get line that installs them.
run: $(STAMP)
	@sh packaging/qt-libs.sh $(VENV)
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

# The program an office PC runs (packaging/): PyInstaller's one folder dist/advice-desk, the
# Linux tarball with its install.sh, the check of the Windows installer script's files, then
# the smoke check of the installed tarball from a temporary folder with `env -i`.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' advice_desk/__init__.py)
TARBALL := dist/advice-desk-$(VERSION)-linux-x86_64.tar.gz
PACKAGE_STAMP := $(VENV)/.package-stamp

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,package]'
	@touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP) package-tools
	@start=$$(date +%s); set -e; \
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
	    packaging/advice-desk.spec; \
	$(BIN)/python packaging/check_iss.py packaging/windows/advice-desk.iss dist/advice-desk; \
	rm -rf build/tarball; mkdir -p build/tarball/advice-desk-$(VERSION); \
	cp -al dist/advice-desk build/tarball/advice-desk-$(VERSION)/advice-desk; \
	cp packaging/linux/install.sh packaging/linux/org.advicedesk.AdviceDesk.* \
	    build/tarball/advice-desk-$(VERSION)/; \
	tar -C build/tarball -cf - advice-desk-$(VERSION) | gzip -1 > $(TARBALL); \
	built=$$(date +%s); \
	$(BIN)/python packaging/smoke_check.py $(TARBALL); \
	echo "dist/advice-desk: $$(du -sm dist/advice-desk | cut -f1) MB unpacked;" \
	     "$(TARBALL): $$(du -sm $(TARBALL) | cut -f1) MB;" \
	     "built in $$((built - start)) s, checked in $$(($$(date +%s) - built)) s"

# What `make package` validates and bundles: desktop-file-validate, appstreamcli, and the two
# X11 libraries Qt's plugin needs that Debian images often lack (then carried in the folder).
# Installed when missing if we are root; otherwise the check says what it skipped. Never fails.
package-tools:
	@{ command -v desktop-file-validate && command -v appstreamcli \
	   && ldconfig -p | grep -q libxcb-icccm.so.4 && ldconfig -p | grep -q libxcb-keysyms.so.1; \
	 } >/dev/null 2>&1 \
	|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	     && echo "Installing the packaging checks (apt-get install desktop-file-utils appstream libxcb-icccm4 libxcb-keysyms1)" \
	     && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	          --no-install-recommends desktop-file-utils appstream libxcb-icccm4 \
	          libxcb-keysyms1; } >/dev/null 2>&1; } \
	|| echo "desktop-file-utils or appstream not installed: the smoke check says what it does not validate"

# The PNG sizes and the .ico of resources/icons/ again, after advice-desk.svg has changed.
icons: $(STAMP)
	$(BIN)/python packaging/make_icons.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
