import { readFileSync } from 'node:fs';
// docs/openapi.yaml <-> src/http/routes.c, the served document, and a walk
// over every route checking that it exists for its method.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, startServer, specRoutes, sourceRoutes, fixture, uniqueText, cli, tmpDir, T } from './lib/server.mjs';
import { validateResponse, matchRoute } from './lib/openapi.mjs';

const key = (r) => `${r.method} ${r.path}`;

test('routes.c and docs/openapi.yaml name exactly the same routes', () => {
  const src = sourceRoutes();
  const spec = specRoutes();
  assert.ok(src.length >= 25, `parsed ${src.length} routes from routes.c`);
  const s = new Set(src.map(key)), o = new Set(spec.map(key));
  assert.equal(o.size, spec.length, 'no route is listed twice in the spec');
  const missing = [...s].filter((k) => !o.has(k));
  const extra = [...o].filter((k) => !s.has(k));
  assert.deepEqual(missing, [], 'routes missing from docs/openapi.yaml');
  assert.deepEqual(extra, [], 'docs/openapi.yaml names routes that do not exist');
});

/** Runs tests/openapi/check.mjs (the strict YAML 1.2 parse) on text: {code, out}. */
function yamlCheck(text) {
  const f = path.join(tmpDir(), 'spec.yaml');
  fs.writeFileSync(f, text);
  try {
    return { code: 0, out: execFileSync('node', [path.join(ROOT, 'tests/openapi/check.mjs'), f], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    return { code: e.status, out: String(e.stderr) };
  }
}

test('the strict YAML check accepts docs/openapi.yaml and refuses what made it invalid before', () => {
  const good = fs.readFileSync(path.join(ROOT, 'docs/openapi.yaml'), 'utf8');
  const ok = yamlCheck(good);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /valid YAML 1\.2, OpenAPI 3\.1\.\d+, \d+ paths/);
  // The three defects of issue #11 point 18, put back one at a time.
  const bad = [
    ["summary: 'Add or change a term: parent, synonyms, labels (admin)'", 'summary: Add or change a term: parent, synonyms, labels (admin)', /Nested mappings/],
    ["summary: 'Create a template (admin): field", 'summary: Create a template (admin): field', /Nested mappings/],
    ["description: 'time the engine took, in milliseconds'}", 'description: time the engine took, in milliseconds}', /"in milliseconds" has no value/],
    ['paths:\n', 'paths:\n  /healthz:\n    get: {}\n', /Map keys must be unique/],
  ];
  for (const [from, to, why] of bad) {
    assert.ok(good.includes(from), `the spec still has ${from}`);
    const r = yamlCheck(good.replace(from, to));
    assert.equal(r.code, 1, `refused: ${to}`);
    assert.match(r.out, why);
  }
});

/** A Response as the server could send it, for checking the checker. */
function answer(status, body, type = 'application/json', headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = new Response(status === 304 ? null : text, { status, headers: { 'content-type': type, ...headers } });
  return [res, Buffer.from(status === 304 ? '' : text)];
}

test('the response check refuses undocumented routes, statuses, types and bodies', () => {
  const err = { error: { code: 'not_found', message: 'no asset' } };
  // documented: passes
  validateResponse('GET', '/api/v1/searches', ...answer(200, { items: [] }));
  validateResponse('GET', '/api/v1/assets/0123456789/versions?x=1', ...answer(404, err));
  validateResponse('HEAD', '/api/v1/assets/0123456789/original', ...answer(200, '', 'image/jpeg'));
  validateResponse('GET', '/nowhere', ...answer(404, err));
  validateResponse('PUT', '/api/v1/assets', ...answer(405, err, 'application/json', { allow: 'GET, POST' }));
  const refuse = (why, method, p, ...a) => assert.throws(() => validateResponse(method, p, ...a), why);
  refuse(/status 418 is not documented for GET \/api\/v1\/searches/, 'GET', '/api/v1/searches', ...answer(418, err));
  refuse(/\/items must be array/, 'GET', '/api/v1/searches', ...answer(200, { items: {} }));
  refuse(/must have required property 'items'/, 'GET', '/api/v1/searches', ...answer(200, {}));
  refuse(/Content-Type text\/html is not documented/, 'GET', '/api/v1/searches', ...answer(200, '<p>', 'text/html'));
  refuse(/401: the body does not match the schema of GET \/api\/v1\/searches 401[^]*required property 'error'/, 'GET', '/api/v1/searches', ...answer(401, { message: 'x' }));
  refuse(/body is not an Error/, 'GET', '/nowhere', ...answer(404, { message: 'x' }));
  refuse(/no route takes it, so the router answers 404, not 200/, 'GET', '/nowhere', ...answer(200, {}));
  refuse(/405 without Allow/, 'PUT', '/api/v1/assets', ...answer(405, err));
  // the router's order: GET /api/v1/assets/bulk is GET /api/v1/assets/{id}
  assert.equal(matchRoute('GET', '/api/v1/assets/bulk').route.path, '/api/v1/assets/{id}');
  assert.equal(matchRoute('POST', '/api/v1/assets/bulk').route.path, '/api/v1/assets/bulk');
  assert.equal(matchRoute('GET', '/ui/static/app.js').route.path, '/ui/{path}');
  assert.equal(matchRoute('GET', '/ui/').route.path, '/ui/{path}');
  // the router's trailing-slash rule: one '/' more is tried without it; two are not
  assert.equal(matchRoute('GET', '/api/v1/assets/').route.path, '/api/v1/assets');
  assert.equal(matchRoute('GET', '/api/v1/assets//').status, 404);
  assert.equal(matchRoute('HEAD', '/api/v1/uploads/abc').route.method, 'HEAD');
  assert.equal(matchRoute('HEAD', '/api/v1/assets').route.method, 'GET');
});

test('coverage.mjs fails on a route without a validated success, and names it', () => {
  const routes = sourceRoutes();
  const f = path.join(tmpDir(), 'cov.txt');
  const run = (lines) => {
    fs.writeFileSync(f, lines.join('\n') + '\n');
    try {
      return { code: 0, out: execFileSync('node', [path.join(ROOT, 'tests/api/coverage.mjs'), f], { encoding: 'utf8' }) };
    } catch (e) {
      return { code: e.status, out: String(e.stdout) };
    }
  };
  const all = routes.map((r) => `${r.method} ${r.path} 200`);
  const ok = run(all);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, new RegExp(`coverage: ${routes.length}/${routes.length} routes`));
  // one route seen only with an error: not covered
  const bad = run([...all.slice(1), `${routes[0].method} ${routes[0].path} 401`]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, new RegExp(`not ok - ${routes[0].method} ${routes[0].path.replace(/[{}]/g, '\\$&')}: no validated 2xx/3xx .*statuses seen: 401`));
});

test('the spec is OpenAPI 3.1 with the security schemes, schemas and upload cap', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs/openapi.yaml'), 'utf8');
  assert.match(text, /^openapi: 3\.1\.\d+$/m);
  for (const want of ['bearerAuth:', 'sessionCookie:', 'name: dam_session', 'X-CSRF-Token', 'Error:', 'Asset:',
    'Version:', 'Rendition:', 'IngestResult:', 'Job:', '256 MiB', '--max-upload', '16 MiB', "'413'",
    'Tus-Resumable', 'Upload-Length', 'Upload-Metadata', 'Upload-Offset', 'application/offset+octet-stream',
    'multipart/form-data', 'application/octet-stream', 'X-Filename', 'created_after', 'updated_before',
    'next_cursor', 'field.KEY'])
    assert.ok(text.includes(want), `spec mentions ${want}`);
  // every $ref points at a defined component
  for (const m of text.matchAll(/\$ref: '#\/components\/(\w+)\/(\w+)'/g)) {
    const re = new RegExp(`^components:[\\s\\S]*?^  ${m[1]}:[\\s\\S]*?^    ${m[2]}:`, 'm');
    assert.match(text, re, `component ${m[1]}/${m[2]} is defined`);
  }
});

let s, ids = {};
before(async () => {
  // No job workers: jobs are run on demand with `dam worker --until-idle`,
  // so one job can be left queued for the cancel route.
  s = await startServer({ workers: -1 });
  const a = await s.upload('photo2.jpg', fixture('photo2.jpg'), 'admin');
  const b = await s.upload('delete-me.txt', uniqueText('walk-del'), 'admin');
  const c = await s.upload('corrupt.jpg', fixture('corrupt.jpg'), 'admin');
  cli(s.lib, ['worker', '--until-idle']);
  await s.waitProcessed(a.asset_id);
  await s.waitProcessed(c.asset_id);
  const queued = await s.upload('queued.txt', uniqueText('walk-queued'), 'admin');
  const jobs = await s.api('/api/v1/jobs?limit=1000', { as: 'admin' });
  ids.failedJob = jobs.json.items.find((j) => j.state === 'failed').id;
  ids.queuedJob = jobs.json.items.find((j) => j.state === 'queued' && j.asset_id === queued.asset_id).id;
  ids.asset = a.asset_id;
  ids.verAsset = queued.asset_id;
  ids.delAsset = b.asset_id;
  const mk = async () => {
    const r = await s.api('/api/v1/uploads', {
      method: 'POST', as: 'admin',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '5', 'upload-metadata': 'filename ' + Buffer.from('walk.txt').toString('base64') },
    });
    assert.equal(r.status, 201);
    return r.headers.get('location').split('/').pop();
  };
  ids.upload = await mk();
  ids.upload2 = await mk();
});
after(async () => { await s.stop(); });

test('GET /api/v1/openapi.yaml serves docs/openapi.yaml byte for byte', async () => {
  const r = await s.api('/api/v1/openapi.yaml', { as: 'viewer' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /yaml/);
  const disk = fs.readFileSync(path.join(ROOT, 'docs/openapi.yaml'));
  assert.ok(r.bytes.equals(disk), 'served bytes equal docs/openapi.yaml (rebuild with ninja after editing it)');
});

test('every route in the spec answers its method (never 404 "no such route" or 405)', async () => {
  const routes = specRoutes();
  const saved = await s.api('/api/v1/searches', { method: 'POST', as: 'admin', json: { name: 'walk-delete', query: 'type:image' } });
  assert.equal(saved.status, 201, saved.text);
  for (const [path, json] of [
    ['/api/v1/fields', { key: 'walkfield', type: 'text' }],
    ['/api/v1/vocabularies', { name: 'walkvocab' }],
    ['/api/v1/templates', { name: 'walktpl', fields: { walked: 'yes' } }],
    ['/api/v1/templates', { name: 'walkdel', tags: ['t'] }],
  ]) {
    const r = await s.api(path, { method: 'POST', as: 'admin', json });
    assert.equal(r.status, 201, `${path}: ${r.text}`);
  }
  const bodies = {
    'POST /api/v1/assets/bulk': { ids: [ids.asset], fields: { walked: 'yes' } },
    'POST /api/v1/fields': { key: 'walk_new', type: 'text' },
    'POST /api/v1/vocabularies': { name: 'walk_v2' },
    'PUT /api/v1/vocabularies/{name}/terms/{term}': { synonyms: ['trainers'] },
    'PATCH /api/v1/vocabularies/{name}/terms/{term}': { labels: { en: 'Sneakers' } },
    'PUT /api/v1/fields/{key}': { type: 'text', labels: { en: 'Walked' } },
    'POST /api/v1/templates': { name: 'walk_t2', tags: ['x'] },
    'POST /api/v1/templates/{name}/apply': { ids: [ids.asset] },
    'POST /api/v1/name-patterns': { pattern: '{sku}_{n}.{ext}' },
    'PUT /api/v1/languages': { languages: ['en', 'zh'] },
    'POST /api/v1/presets': { name: 'walk-new', spec: 'w_100' },
    'PUT /api/v1/presets/{name}': { spec: 'w_200,f_webp' },
    'POST /api/v1/downloads/zip': { ids: [ids.asset] },
    'POST /api/v1/users': { username: 'walk-user', role: 'viewer' },
    'PATCH /api/v1/users/{username}': { role: 'contributor' },
    'POST /api/v1/tokens': { label: 'walk' },
  };
  const made = await s.api('/api/v1/presets', { method: 'POST', as: 'admin', json: { name: 'walk-preset', spec: 'w_300' } });
  assert.equal(made.status, 201, made.text);
  const link = await s.api(`/api/v1/assets/${ids.asset}/links?options=w_50`, { as: 'admin' });
  assert.equal(link.status, 200, link.text);
  const [, , sig, opts] = new URL(link.json.url).pathname.split('/');
  const walkToken = await s.api('/api/v1/tokens', { method: 'POST', as: 'admin', json: { label: 'walk-revoke' } });
  assert.equal(walkToken.status, 201, walkToken.text);
  for (const rt of routes) {
    let p = rt.path
      .replace('/t/{signature}/{options}/{asset}', `/t/${sig}/${opts}/${ids.asset}`)
      .replace('/presets/{name}', '/presets/walk-preset')
      .replace('/tiles/{level}/{tile}', '/tiles/0/0_0.jpg')
      .replace('/fields/{key}', '/fields/walkfield')
      .replace('/vocabularies/{name}', '/vocabularies/walkvocab').replace('{term}', 'sneakers')
      .replace('/templates/{name}', rt.method === 'DELETE' ? '/templates/walkdel' : '/templates/walktpl');
    const isDel = rt.method === 'DELETE' && p === '/api/v1/assets/{id}' || p === '/api/v1/assets/{id}/restore';
    const isVer = rt.method === 'POST' && (p.endsWith('/versions') || p.endsWith('/versions/{number}/restore'));
    p = p.replace('/assets/{id}', `/assets/${isDel ? ids.delAsset : isVer ? ids.verAsset : ids.asset}`)
      .replace('{number}', '1').replace('{name}', 'preview')
      .replace('/uploads/{id}', `/uploads/${rt.method === 'DELETE' ? ids.upload2 : ids.upload}`)
      .replace('/jobs/{id}/retry', `/jobs/${ids.failedJob}/retry`)
      .replace('/jobs/{id}/cancel', `/jobs/${ids.queuedJob}/cancel`)
      .replace('/searches/{id}', `/searches/${saved.json.id}`)
      .replace('/tokens/{id}', `/tokens/${walkToken.json.id}`)
      .replace('/users/{username}', '/users/viewer1')
      .replace('/ui/{path}', '/ui/library');
    if (p === '/api/v1/downloads/zip' && rt.method === 'GET') p += `?ids=${ids.asset}`;
    assert.ok(!p.includes('{'), `all parameters substituted in ${p}`);
    const o = { method: rt.method, as: 'admin', headers: {} };
    if (p === '/api/v1/session' && rt.method === 'POST') {
      delete o.as;
      o.json = { username: 'admin', password: s.adminPassword };
    } else if (rt.path === '/api/v1/assets' && rt.method === 'POST') {
      o.body = uniqueText('walk-new');
      o.headers['x-filename'] = 'walk-new.txt';
    } else if (rt.path.endsWith('/versions') && rt.method === 'POST') {
      o.body = uniqueText('walk-version');
      o.headers['x-filename'] = 'walk-version.txt';
    } else if (rt.path === '/api/v1/search/image') {
      o.body = readFileSync(`${process.env.FIXTURES || 'build/fixtures'}/photo2.jpg`);
    } else if (bodies[`${rt.method} ${rt.path}`]) {
      o.json = bodies[`${rt.method} ${rt.path}`];
    } else if (rt.path === '/api/v1/searches' && rt.method === 'POST') {
      o.json = { name: 'walk', query: 'type:image', shared: true };
    } else if (rt.path === '/api/v1/assets/{id}' && rt.method === 'PATCH') {
      o.json = { tags: { add: ['walked'] } };
    } else if (rt.path.startsWith('/api/v1/uploads')) {
      if (rt.method !== 'OPTIONS') o.headers['tus-resumable'] = '1.0.0';
      if (rt.method === 'POST') {
        o.headers['upload-length'] = '3';
        o.headers['upload-metadata'] = 'filename ' + Buffer.from('w.txt').toString('base64');
      }
      if (rt.method === 'PATCH') {
        o.headers['upload-offset'] = '0';
        o.headers['content-type'] = 'application/offset+octet-stream';
        o.body = Buffer.from('hello');
      }
    }
    const r = await s.api(p, o);
    assert.notEqual(r.status, 405, `${rt.method} ${p}: 405`);
    if (r.status === 404) assert.notEqual(r.json?.error?.message, 'no such route', `${rt.method} ${p}: route missing`);
    assert.ok(r.status < 400 || rt.method === 'DELETE' && p === '/api/v1/session',
      `${rt.method} ${rt.path} -> ${r.status} ${r.text}`);
  }
});
