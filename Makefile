# The two commands of the README:
#   make run    set up, load the bundled example into the embedded SQLite store, serve the page and API
#   make test   set up, run every test (tests/ and features/) on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXAMPLE := examples/changzhi-hpf-2024-budget.txt
# The year after, made from the 2024 events (python -m ledger.devtools.nextyear), and the
# crosswalk its codes compare through: two consecutive years to look at.
NEXT_YEAR := examples/changzhi-hpf-2025-budget-made-from-2024.txt
CROSSWALKS := examples/crosswalks
# PostgreSQL for the second test pass (the machines run one on 127.0.0.1:5432, trust auth).
LEDGER_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export LEDGER_TEST_POSTGRES_URL

.PHONY: setup run test test-sqlite test-postgresql clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 8000

run: setup
	$(BIN)/ledger import $(EXAMPLE)
	$(BIN)/ledger import $(NEXT_YEAR)
	LEDGER_CROSSWALKS=$(CROSSWALKS) $(BIN)/ledger serve --host $(HOST) --port $(PORT)

test: test-sqlite test-postgresql

# Each pass also writes the scenarios' results (cucumber JSON) and the rules page (served at /rules).
test-sqlite: setup
	LEDGER_TEST_STORE=sqlite $(BIN)/python -m pytest -q -p no:cacheprovider --cucumberjson=reports/cucumber-sqlite.json
	$(BIN)/python -m ledger.devtools.rulesreport reports/cucumber-sqlite.json reports/rules-sqlite.html features

test-postgresql: setup
	LEDGER_TEST_STORE=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider --cucumberjson=reports/cucumber-postgresql.json
	$(BIN)/python -m ledger.devtools.rulesreport reports/cucumber-postgresql.json reports/rules-postgresql.html features

clean:
	rm -rf $(VENV) data reports
