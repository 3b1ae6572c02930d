// After a whole API run (tests/api/run.sh without arguments): every route of
// src/http/routes.c must have answered at least one request with a success
// (2xx or 3xx) that lib/openapi.mjs validated against docs/openapi.yaml.
//
//   node tests/api/coverage.mjs COVERAGE_FILE
//
// COVERAGE_FILE holds "METHOD PATH STATUS" lines (DAM_OPENAPI_COVERAGE).
// Prints the uncovered routes; exit 1 when there are any beyond EXCEPTIONS,
// or when an exception is covered after all (then remove it).
import fs from 'node:fs';
import { sourceRoutes } from './lib/openapi.mjs';

/** Routes no API test can make succeed, each with the reason. */
const EXCEPTIONS = {
};

const file = process.argv[2];
const seen = new Map();
for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
  const m = l.match(/^(\S+) (\S+) (\d+)$/);
  if (!m) continue;
  const k = `${m[1]} ${m[2]}`;
  if (!seen.has(k)) seen.set(k, new Set());
  seen.get(k).add(Number(m[3]));
}
const routes = sourceRoutes().map((r) => `${r.method} ${r.path}`);
let bad = 0;
const uncovered = routes.filter((k) => ![...(seen.get(k) || [])].some((st) => st >= 200 && st < 400));
for (const k of uncovered) {
  if (EXCEPTIONS[k]) {
    console.log(`# not exercised (exception): ${k} - ${EXCEPTIONS[k]}`);
  } else {
    console.log(`not ok - ${k}: no validated 2xx/3xx response in the API run (statuses seen: ${[...(seen.get(k) || [])].join(', ') || 'none'})`);
    bad++;
  }
}
for (const k of Object.keys(EXCEPTIONS)) {
  if (!routes.includes(k)) { console.log(`not ok - exception for ${k}, which is not in routes.c`); bad++; }
  else if (!uncovered.includes(k)) { console.log(`not ok - ${k} is exercised now: remove it from EXCEPTIONS`); bad++; }
}
const statuses = [...seen.values()].reduce((n, s) => n + s.size, 0);
console.log(`# openapi coverage: ${routes.length - uncovered.length}/${routes.length} routes answered with a validated success; ${statuses} route+status pairs validated`);
process.exit(bad ? 1 : 0);
