#!/usr/bin/env bash
# One command runs the tests: install what is missing, lint, type-check, then the whole suite
# (fast tests, the slow SmolLM2 tests, PostgreSQL, browser and cluster tests), after ruff, mypy and the layer
# contract (lint-imports). Extra arguments go to pytest. `-m ""` lifts the fast-suite filter of pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
if [ -x scripts/install-browser.sh ]; then ./scripts/install-browser.sh; fi
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -m "" "$@"
