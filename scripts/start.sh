#!/usr/bin/env bash
# Starts the whole system: backing services, database with the demo province, the
# controller's HTTP API, and a simulated fleet of the demo's receivers (the real agent
# code, virtual hardware). Ctrl-C stops the fleet, then the controller.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/services.sh status
npm run --silent db:seed --workspace controller

host="${HTTP_HOST:-127.0.0.1}"
port="${HTTP_PORT:-8080}"
export CONTROLLER_URL="${CONTROLLER_URL:-http://$host:$port}"
export SIM_PASSWORD="${SIM_PASSWORD:-${DEMO_PASSWORD:-loa-demo}}"

controller=""
fleet=""
stop() {
  trap - INT TERM EXIT
  echo "start: stopping"
  [ -n "$fleet" ] && kill -TERM "$fleet" 2>/dev/null && wait "$fleet" 2>/dev/null || true
  [ -n "$controller" ] && kill -TERM "$controller" 2>/dev/null && wait "$controller" 2>/dev/null || true
}
trap stop INT TERM EXIT

node controller/dist/server.js &
controller=$!
# Wait until the API answers (the database and Redis are reachable).
node -e '
  const url = process.argv[1] + "/readyz";
  const deadline = Date.now() + 60000;
  (async function poll() {
    try { if ((await fetch(url)).ok) process.exit(0); } catch {}
    if (Date.now() > deadline) { console.error("start: the controller did not become ready at " + url); process.exit(1); }
    setTimeout(poll, 250);
  })();
' "$CONTROLLER_URL"
echo "start: the dashboard is at $CONTROLLER_URL/app/ and the API at $CONTROLLER_URL (docs at /docs); sign in as e.g. official-02680, emergency-082, technician-10 or admin, password \"$SIM_PASSWORD\"."
echo "start: starting the simulated fleet of the demo's receivers. Ctrl-C stops everything."
node simulator/dist/cli.js fleet &
fleet=$!
wait -n "$controller" "$fleet" || true
