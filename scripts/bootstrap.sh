#!/usr/bin/env bash
# Create .venv (if missing) and install bankbot with its dev tools. Re-runs are cheap: a stamp file records
# the pyproject.toml that was installed, and nothing is reinstalled until it changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.bankbot-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing bankbot and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip wheel setuptools
  # torch first and pinned: a looser spec pulls the CUDA build (several GB) from the registry.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
