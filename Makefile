# The two commands of the README:
#   make run    set up, load the bundled example, print the rebuilt tables
#   make test   set up, run every test on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXAMPLE := examples/changzhi-hpf-2024-budget.txt
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

run: setup
	$(BIN)/ledger import $(EXAMPLE)
	$(BIN)/ledger tables --department 长治市住房公积金管理中心 --year 2024

test: test-sqlite test-postgresql

test-sqlite: setup
	LEDGER_TEST_STORE=sqlite $(BIN)/python -m pytest -q -p no:cacheprovider

test-postgresql: setup
	LEDGER_TEST_STORE=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) data reports
