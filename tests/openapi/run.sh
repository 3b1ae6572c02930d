#!/usr/bin/env bash
# docs/openapi.yaml: a strict YAML 1.2 parse (check.mjs) and `redocly lint`
# with 0 errors (redocly.yaml holds the rule set). Takes about 2 s.
#
#   tests/openapi/run.sh
set -eu
cd "$(dirname "$0")"
./deps.sh
node check.mjs
# No telemetry, no update check: the lint must run offline.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
node_modules/.bin/redocly lint --config redocly.yaml ../../docs/openapi.yaml
