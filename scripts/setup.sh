#!/usr/bin/env bash
# Everything the project needs before it can run or be tested, on a fresh Debian
# machine or an existing one: Node check, backing services, npm packages, build.
# Idempotent; each step says what it did.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20.19 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

bash scripts/services.sh up
bash scripts/tools.sh

# Install only when the lockfile changed since the last install (or on a clean checkout).
# `npm install` (which installs the locked versions) rather than `npm ci`: the registry
# these machines reach lacks some other platforms' optional binaries (Biome for macOS and
# Windows), so the lockfile cannot list them and `npm ci` would refuse it as out of sync.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm install, locked versions)"
  npm install --no-audit --no-fund --loglevel=error
else
  echo "setup: npm packages up to date"
fi

echo "setup: generating the database client (prisma generate)"
npm run --silent db:generate --workspace controller >/dev/null

echo "setup: applying database migrations (prisma migrate deploy)"
npm run --silent db:migrate --workspace controller

# A development signing key, made once; production keys are made and kept by operators.
if [ -z "${SIGNING_KEY_FILE:-}" ] && [ ! -f data/signing-key.jwk ]; then
  mkdir -p data
  npx tsx protocols/src/cli/loa-keys.ts generate data/signing-key.jwk >/dev/null
  echo "setup: created a development command-signing key in data/signing-key.jwk"
fi

echo "setup: building (tsc -b)"
npx tsc -b

echo "setup: building the dashboard (vite build)"
npm run --silent build --workspace dashboard >/dev/null
