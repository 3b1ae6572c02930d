// The API tests' one check of real responses against docs/openapi.yaml.
//
// Every response the API tests receive passes through checkedFetch() (via
// s.api() in server.mjs), which calls validateResponse(): it finds the route
// the server's router picks for the method and path (the route table of
// src/http/routes.c, read as text, in its order, HEAD answered by GET like
// router_match() does), takes that route's operation in the spec, and fails
// the test when
//   - the route has no operation in the spec,
//   - the status is not one the operation documents,
//   - the Content-Type is not one the documented response lists,
//   - a JSON body does not validate against the documented schema (Ajv,
//     JSON Schema 2020-12 = OpenAPI 3.1, with the spec's components).
// A path no route matches must be the router's 404 and a known path with
// another method its 405 (with Allow), both with the Error body: that is what
// the spec's info.description promises for them.
//
// When DAM_OPENAPI_COVERAGE names a file, each validated answer appends
// "METHOD PATH STATUS" of its route there; tests/api/coverage.mjs reads it
// after a whole run to show that every route was exercised.
//
// ajv, ajv-formats and yaml come from tests/openapi (npm ci there; the
// Makefile and tests/api/run.sh do it from the committed lock file).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SPEC_FILE = path.join(ROOT, 'docs/openapi.yaml');
const ROUTES_FILE = path.join(ROOT, 'src/http/routes.c');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function npm(name) {
  const req = createRequire(path.join(ROOT, 'tests/openapi/package.json'));
  try {
    return req(name);
  } catch (e) {
    throw new Error(`tests/openapi has no ${name} (run \`make\` or \`npm ci\` in tests/openapi): ${e.message}`);
  }
}

/** Route table of src/http/routes.c in its order: [{method, path, name, flags}]. */
export function sourceRoutes(text = fs.readFileSync(ROUTES_FILE, 'utf8')) {
  const out = [];
  const re = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*\w+\s*,\s*([^,]*?)\s*,[^}]*?"(\w+)"\s*\}/g;
  for (const m of text.matchAll(re)) out.push({ method: m[1], path: m[2], flags: m[3], name: m[4] });
  return out;
}

/** docs/openapi.yaml parsed strictly (YAML 1.2 core schema, unique keys). */
export function loadSpec(text = fs.readFileSync(SPEC_FILE, 'utf8')) {
  const { parseDocument } = npm('yaml');
  const doc = parseDocument(text, { version: '1.2', schema: 'core', strict: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) throw new Error(`docs/openapi.yaml is not valid YAML 1.2:\n${problems.map((p) => p.message).join('\n')}`);
  return doc.toJS();
}

/** Operations of the spec: [{method (upper case), path, op}]. */
export function specOperations(spec) {
  const out = [];
  for (const [p, item] of Object.entries(spec.paths || {}))
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path: p, op: item[m] });
  return out;
}

/** A route's path pattern as a RegExp: {x} is one segment, or the rest (maybe empty) for ROUTE_REST, as router.c's match(). */
function patternRegExp(route) {
  const rest = /\bROUTE_REST\b/.test(route.flags);
  const parts = route.path.split(/(\{[^}]+\})/);
  let last = -1;
  parts.forEach((s, i) => { if (s.startsWith('{')) last = i; });
  const src = parts.map((s, i) => {
    if (!s.startsWith('{')) return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return rest && i === last ? '(.*)' : '([^/]+)';
  }).join('');
  return new RegExp(`^${src}$`);
}

let state;
function init() {
  if (state) return state;
  const Ajv2020 = npm('ajv/dist/2020.js').default;
  const addFormats = npm('ajv-formats').default;
  const spec = loadSpec();
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, discriminator: true });
  addFormats(ajv);
  // OpenAPI's own annotation keywords and formats (3.1 dialect).
  for (const k of ['example', 'xml', 'externalDocs']) ajv.addKeyword(k);
  for (const f of ['binary', 'byte', 'int32', 'int64', 'float', 'double', 'password']) ajv.addFormat(f, true);
  // '#/components/schemas/X' in the spec becomes 'dam#/$defs/X', one schema
  // holding every component, so each response schema compiles on its own.
  const rebase = (v) => JSON.parse(JSON.stringify(v ?? {}).replaceAll('"#/components/schemas/', '"dam#/$defs/'));
  ajv.addSchema({ $id: 'dam', $defs: rebase(spec.components?.schemas) });
  const routes = sourceRoutes().map((r) => ({ ...r, re: patternRegExp(r) }));
  const ops = new Map(specOperations(spec).map((o) => [`${o.method} ${o.path}`, o.op]));
  const covFile = process.env.DAM_OPENAPI_COVERAGE || null;
  state = { spec, ajv, rebase, routes, ops, compiled: new Map(), covFile };
  return state;
}

/** Resolves a local '#/components/...' $ref of the spec (responses, ...). */
function deref(spec, obj) {
  for (let i = 0; obj && obj.$ref && i < 10; i++) {
    assert.ok(obj.$ref.startsWith('#/'), `only local $refs are supported: ${obj.$ref}`);
    obj = obj.$ref.slice(2).split('/').reduce((o, k) => o?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], spec);
  }
  return obj;
}

/** The route router_match() picks: {route} or {status: 404|405, allow}. */
export function matchRoute(method, p) {
  const { routes } = init();
  const m = method === 'HEAD' ? 'GET' : method;
  const allow = [];
  for (const r of routes) {
    if (!r.re.test(p)) continue;
    if (r.method === m || r.method === method) return { route: r };
    allow.push(r.method);
  }
  // The router's one trailing-slash rule (router.c, router_match): a path
  // ending in a single '/' that no route takes is tried without it.
  if (!allow.length && p.length > 1 && p.endsWith('/') && !p.endsWith('//')) return matchRoute(method, p.slice(0, -1));
  return { status: allow.length ? 405 : 404, allow };
}

function mediaMatches(pattern, type) {
  if (pattern === type || pattern === '*/*') return true;
  return pattern.endsWith('/*') && type.startsWith(pattern.slice(0, -1));
}

function validator(key, schema) {
  const st = init();
  let v = st.compiled.get(key);
  if (!v) {
    v = st.ajv.compile(st.rebase(schema));
    st.compiled.set(key, v);
  }
  return v;
}

/** A header of a fetch Response, or of {headers: {lower-case name: value}}. */
function header(res, name) {
  const h = res.headers;
  const v = typeof h?.get === 'function' ? h.get(name) : h?.[name];
  return Array.isArray(v) ? v.join(', ') : v ?? null;
}

/** Checks an Error body; returns it. */
function errorBody(where, res, bytes) {
  const type = (header(res, 'content-type') || '').split(';')[0].trim();
  assert.equal(type, 'application/json', `${where}: error Content-Type`);
  const v = validator('#Error', { $ref: '#/components/schemas/Error' });
  const body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  assert.ok(v(body), `${where}: body is not an Error: ${JSON.stringify(v.errors)}`);
  return body;
}

/* Answers the server gives before any route, on any path (the spec's
 * info.description, "Errors"): status -> error codes. */
const SERVER_WIDE = { 400: ['bad_path', 'duplicate_header'], 413: ['too_large'] };

/**
 * Checks one real response against the spec; throws an AssertionError that
 * says what does not match. method: the request method; url: the request
 * path (with query) or a full URL; res: a fetch Response, or {status,
 * headers: {lower-case name: value}}; bytes: its body (Buffer; for HEAD and
 * 304 empty).
 */
export function validateResponse(method, url, res, bytes) {
  const st = init();
  const p = url.startsWith('/') ? url.split('?')[0] : new URL(url).pathname;
  const where = `${method} ${p} -> ${res.status}`;
  if (SERVER_WIDE[res.status] && method !== 'HEAD' && bytes.length) {
    let code;
    try {
      code = JSON.parse(Buffer.from(bytes).toString('utf8'))?.error?.code;
    } catch { /* not JSON: checked as the route's answer below */ }
    if (SERVER_WIDE[res.status].includes(code)) {
      errorBody(where, res, bytes);
      return;
    }
  }
  const hit = matchRoute(method, p);
  if (!hit.route) {
    // The router's own answers (info.description, "Errors").
    assert.equal(res.status, hit.status, `${method} ${p}: no route takes it, so the router answers ${hit.status}, not ${res.status}`);
    if (hit.status === 405) assert.ok(header(res, 'allow'), `${where}: 405 without Allow`);
    if (method !== 'HEAD') errorBody(where, res, bytes);
    return;
  }
  const r = hit.route;
  const opMethod = method === 'HEAD' && !st.ops.has(`HEAD ${r.path}`) ? 'GET' : r.method;
  const op = st.ops.get(`${opMethod} ${r.path}`);
  assert.ok(op, `${where}: the route ${r.method} ${r.path} (routes.c) has no operation in docs/openapi.yaml`);
  const responses = op.responses || {};
  const key = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((k) => k in responses);
  assert.ok(key, `${where}: status ${res.status} is not documented for ${opMethod} ${r.path} ` +
    `(documented: ${Object.keys(responses).join(', ')}); body: ${Buffer.from(bytes).toString('utf8').slice(0, 300)}`);
  const doc = deref(st.spec, responses[key]);
  const content = doc?.content;
  const type = (header(res, 'content-type') || '').split(';')[0].trim().toLowerCase();
  if (method !== 'HEAD' && bytes.length && res.status !== 304) {
    assert.ok(content, `${where}: the spec documents no body for ${opMethod} ${r.path} ${key}, the server sent ${bytes.length} bytes of ${type}`);
    const media = Object.keys(content).find((m) => mediaMatches(m.toLowerCase(), type));
    assert.ok(media, `${where}: Content-Type ${type} is not documented for ${opMethod} ${r.path} ${key} (documented: ${Object.keys(content).join(', ')})`);
    const schema = content[media]?.schema;
    if (schema && /^application\/(.+\+)?json$/.test(type)) {
      let body;
      try {
        body = JSON.parse(Buffer.from(bytes).toString('utf8'));
      } catch (e) {
        assert.fail(`${where}: body is not JSON: ${e.message}`);
      }
      const v = validator(`${opMethod} ${r.path} ${key} ${media}`, schema);
      if (!v(body)) {
        const errs = v.errors.slice(0, 8).map((e) => `  ${e.instancePath || '(body)'} ${e.message}` +
          (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '') + ` [schema ${e.schemaPath}]`);
        assert.fail(`${where}: the body does not match the schema of ${opMethod} ${r.path} ${key} in docs/openapi.yaml:\n` +
          `${errs.join('\n')}\nbody: ${JSON.stringify(body).slice(0, 600)}`);
      }
    }
  }
  if (st.covFile) fs.appendFileSync(st.covFile, `${r.method} ${r.path} ${res.status}\n`);
}
