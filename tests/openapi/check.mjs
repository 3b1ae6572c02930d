// Parses docs/openapi.yaml with a strict YAML 1.2 parser (the `yaml`
// package: YAML 1.2 core schema, duplicate keys are errors, any warning is
// an error) and checks that the result is an OpenAPI document.
//
//   node tests/openapi/check.mjs [FILE]
//
// Exit 0 when the file parses cleanly, 1 with every problem listed otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, visit } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const file = path.resolve(root, process.argv[2] || 'docs/openapi.yaml');
const text = fs.readFileSync(file, 'utf8');
const doc = parseDocument(text, { version: '1.2', schema: 'core', strict: true, uniqueKeys: true, prettyErrors: true });
const problems = [...doc.errors, ...doc.warnings];
// `{description: a, b}` is valid YAML that means {description: a, b: null}:
// an unquoted comma split the string. No entry of a flow mapping here is
// meant to be empty, so an entry without a value is reported.
const line = (off) => text.slice(0, off).split('\n').length;
visit(doc, {
  Map(_, m) {
    if (!m.flow) return;
    for (const p of m.items)
      if (p.value == null || (p.value.value === null && !p.value.source))
        problems.push({ message: `line ${line(m.range[0])}: flow mapping entry "${p.key?.value}" has no value (an unquoted comma in a string?)` });
  },
});
for (const p of problems) console.error(`${path.relative(root, file)}: ${p.message}`);
if (problems.length) process.exit(1);
const spec = doc.toJS();
if (typeof spec?.openapi !== 'string' || !/^3\.1\.\d+$/.test(spec.openapi) || typeof spec.paths !== 'object') {
  console.error(`${path.relative(root, file)}: not an OpenAPI 3.1 document (openapi: ${spec?.openapi})`);
  process.exit(1);
}
console.log(`${path.relative(root, file)}: valid YAML 1.2, OpenAPI ${spec.openapi}, ${Object.keys(spec.paths).length} paths`);
