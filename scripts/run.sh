#!/usr/bin/env bash
# One command runs the product: install what is missing, ingest the demo knowledge base, start the web app.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
.venv/bin/bankbot db upgrade
.venv/bin/bankbot ingest
exec .venv/bin/bankbot serve "$@"
