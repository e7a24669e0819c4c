# Set-up and the two commands of the README. Needs only python3 (3.10+) and the package registries.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.captty-installed

.PHONY: demo test lint install clean

demo: $(STAMP)
	$(BIN)/captty demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)  # ruff and mypy over engine/ and tui/ (their settings are in pyproject.toml)
	$(BIN)/ruff check engine tui tests benchmarks
	$(BIN)/mypy

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache
