#!/usr/bin/env bash
# Starts the whole system. Today that is the backing services and the built packages;
# the controller (with its demo province) and the simulated fleet join this script as
# they land (issues [2/8] and [4/8]).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/services.sh status
npm run --silent db:seed --workspace controller
echo "start: services are up, the database holds the demo province, every package is built."
echo "start: nothing long-running exists yet: the controller's API arrives with [2/8], the simulated fleet with [4/8]."
