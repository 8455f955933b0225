#!/usr/bin/env bash
# Starts the whole system: backing services, database with the demo province, and the
# controller's HTTP API. The simulated fleet joins this script with issue [4/8].
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/services.sh status
npm run --silent db:seed --workspace controller
echo "start: the controller API with the demo province (sign in as e.g. official-02680 / admin, password \"${DEMO_PASSWORD:-loa-demo}\")."
echo "start: the simulated fleet joins with [4/8]. Ctrl-C stops the controller."
exec node controller/dist/server.js
