#!/usr/bin/env bash
# Installs tests/openapi's pinned npm packages (yaml, ajv, ajv-formats,
# @redocly/cli) from the committed package-lock.json, only when
# node_modules is missing or older than the lock file: once installed, the
# checks run offline.
set -eu
cd "$(dirname "$0")"
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
	command -v npm >/dev/null || { echo "tests/openapi: npm (Node.js 20+) is needed" >&2; exit 2; }
	npm ci --no-audit --no-fund >&2
	touch "$stamp"
fi
