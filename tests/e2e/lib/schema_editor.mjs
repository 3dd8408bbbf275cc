// What an editor shows with the schemas: drives the real yaml-language-server over LSP
// (tests/e2e/schema_editor.sh says what is checked).
//
//   node schema_editor.mjs
// Env: SOURCE_DIR (the repository root).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { LspClient } from './lsp_client.mjs';

const root = process.env.SOURCE_DIR;
if (!root) {
  console.error('usage: SOURCE_DIR=... node schema_editor.mjs');
  process.exit(2);
}
process.chdir(root);
const lib = 'tests/e2e/lib';
const uriOf = (file) => pathToFileURL(path.resolve(file)).href;

let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${what}`);
  }
};

const schemas = {
  runbook: JSON.parse(fs.readFileSync('schemas/runbook.schema.json', 'utf8')),
  inventory: JSON.parse(fs.readFileSync('schemas/inventory.schema.json', 'utf8')),
};

// --- the schema's own view: which schema node a YAML path leads to -----------------------------
const deref = (schema, node) => (node && node.$ref ? deref(schema, node.$ref.slice(2).split('/')
  .reduce((o, k) => o[k], schema)) : node);
// The sub-schemas that apply to the same value as `node` (through $ref and the combinators).
function alternatives(schema, node, seen = new Set()) {
  if (!node || typeof node !== 'object' || seen.has(node)) return [];
  seen.add(node);
  const out = [node];
  if (node.$ref) out.push(...alternatives(schema, deref(schema, node), seen));
  for (const k of ['allOf', 'anyOf', 'oneOf']) for (const s of node[k] || []) out.push(...alternatives(schema, s, seen));
  for (const k of ['then', 'else']) if (node[k]) out.push(...alternatives(schema, node[k], seen));
  for (const s of Object.values(node.dependentSchemas || {})) out.push(...alternatives(schema, s, seen));
  return out;
}
// The schema of key `key` of an object described by `node`: [property schema, whose own text].
function propertyOf(schema, node, key) {
  const alts = alternatives(schema, node);
  for (const a of alts) {
    const p = a.properties && a.properties[key];
    if (p && typeof p === 'object' && (p.description || p.markdownDescription)) return p;
  }
  for (const a of alts) if (a.additionalProperties && typeof a.additionalProperties === 'object') return a.additionalProperties;
  return undefined;
}
function itemsOf(schema, node) {
  for (const a of alternatives(schema, node)) if (a.items) return a.items;
  return undefined;
}
const ownText = (schema, p) => p.description || p.markdownDescription || deref(schema, p).description;
// Markdown as the server renders it, back to text: escapes gone, blanks folded.
const plain = (s) => String(s).replace(/\\(.)/g, '$1').replace(/\s+/g, ' ').trim();

// Every property schema of a schema (the keys an editor can show), by "def.key" name.
function allProperties(schema) {
  const out = new Map();
  const walk = (node, where) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, where));
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node.properties || {})) {
      if (v && typeof v === 'object' && (v.description || v.markdownDescription)) out.set(v, `${where}.${k}`);
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === '$defs') for (const [d, dv] of Object.entries(v)) walk(dv, d);
      else if (k === 'properties') for (const [p, pv] of Object.entries(v)) walk(pv, `${where}.${p}`);
      else if (typeof v === 'object') walk(v, where);
    }
  };
  walk(schema, '');
  return out;
}

// --- the server -----------------------------------------------------------------------------------
const server = new LspClient(['node', 'tests/node_modules/yaml-language-server/bin/yaml-language-server', '--stdio'],
  { yaml: { validate: true, hover: true, completion: true, format: { enable: false } } });
await server.initialize(uriOf('.'));

// 1. Hover: every key of a document that uses every key shows that key's own description.
for (const kind of ['runbook', 'inventory']) {
  const file = `${lib}/every_key.${kind}.yaml`;
  const text = fs.readFileSync(file, 'utf8');
  const uri = uriOf(file);
  const diags = await server.open(uri, text);
  check(diags.length === 0, `${file}: the editor reports ${diags.map((d) => `${d.range.start.line + 1}: ${d.message}`).join('; ')}`);
  const schema = schemas[kind];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const position = (offset) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    return { line, character: offset - lineStarts[line] };
  };
  const covered = new Set();
  let hovers = 0;
  const visit = async (node, sch, where) => {
    if (YAML.isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key.value;
        const p = propertyOf(schema, sch, key);
        const name = `${where}.${key}`;
        if (!p) {
          check(false, `${file}: no schema for ${name}`);
          continue;
        }
        covered.add(p);
        const expected = ownText(schema, p);
        const pos = position(pair.key.range[0]);
        const hover = await server.hover(uri, pos.line, pos.character + 1);
        hovers++;
        const shown = plain(hover?.contents?.value ?? '');
        check(expected && shown.includes(plain(expected)),
          `hover on ${name} (${file}:${pos.line + 1}) shows "${shown.slice(0, 160)}", expected "${expected}"`);
        await visit(pair.value, p, name);
      }
    } else if (YAML.isSeq(node)) {
      const items = itemsOf(schema, sch);
      for (const item of node.items) await visit(item, items, `${where}[]`);
    }
  };
  await visit(YAML.parseDocument(text).contents, schema, kind);
  server.close(uri);
  const missing = [...allProperties(schema)].filter(([p]) => !covered.has(p)).map(([, n]) => n);
  check(missing.length === 0, `${file} does not use these keys of the ${kind} schema: ${missing.join(', ')}`);
  console.log(`${kind}: ${hovers} keys hovered`);
}

// 2. Diagnostics: the shipped runbooks are clean; mistakes read as sentences (the schema's own
// patternErrorMessage / errorMessage, not the server's generic text).
const shipped = fs.readdirSync('runbooks').filter((f) => f.endsWith('.yaml')).map((f) => `runbooks/${f}`);
for (const file of shipped) {
  const diags = await server.open(uriOf(file), fs.readFileSync(file, 'utf8'));
  check(diags.length === 0, `${file}: the editor reports ${diags.map((d) => `${d.range.start.line + 1}: ${d.message}`).join('; ')}`);
  server.close(uriOf(file));
}
const GENERIC = /does not match the pattern|Matches multiple schemas|Matches a schema that is not allowed|is not allowed\.$|Missing property/;
const MODELINE = '# yaml-language-server: $schema=../schemas/runbook.schema.json\n';
const mistakes = [
  ['name: Clone_Prod\nsteps: [{id: a, run: x}]', "A runbook name is lower-case"],
  ['name: t\nsteps: [{id: Dump Tables, run: x}]', 'A step id is lower-case'],
  ['name: t\nsteps: [{id: a, run: x, manual: y}]', 'exactly one kind'],
  ['name: t\nsteps: [{id: a, description: x}]', 'exactly one kind'],
  ['name: t\nsteps: [{id: a, run: x, timeout: 5 minutes}]', 'A duration is'],
  ['name: t\nsteps: [{id: a, run: x, timeout: 0s}]', 'longer than 0s'],
  ['name: t\nsteps: [{id: a, run: x, retries: 1000}]', 'above the maximum of 100'],
  ['name: t\nsteps: [{id: a, run: x, guards: [{on_fail: warn}]}]', 'A guard has exactly one kind'],
  ['name: t\nsteps: [{id: a, run: x, guards: [{command: x, sql: {db: d, query: q}}]}]', 'A guard has exactly one kind'],
  ['name: t\nsteps: [{id: a, run: x, guards: [{backup_fresh: {path: /b, min_size: 1 GB}}]}]', 'A size is'],
  ['name: t\nsteps: [{id: a, run: x, guards: [{postgres_idle: {db: d}, host: prod}]}]', "'host' beside the kind"],
  ['name: t\nsteps: [{id: a, run: x, guards: [{migrations_applied: {db: d}}]}]', 'exactly one of them'],
  ['name: t\nsteps: [{id: a, sql: {db: d, query: q, file: f}}]', 'exactly one of query'],
  ['name: t\nsteps: [{id: a, copy_rows: {from: p, to: d, table: t, every: 5}}]', "'every' needs 'order_by'"],
  ['name: t\nsteps: [{id: a, copy_rows: {from: p, to: d, table: t, limit: 0}}]', 'below the minimum of 1'],
  ['name: t\nsecrets: {pw: {env: A, file: /b}}\nsteps: [{id: a, run: x}]', 'exactly one of env'],
  ['name: t\nsecrets: {pw: {}}\nsteps: [{id: a, run: x}]', 'exactly one of env'],
  ['name: t\nhosts: {dev: {local: true, ssh: a@b}}\nsteps: [{id: a, run: x}]', 'A host is either'],
  ['name: t\nhosts: {dev: {ssh: -oProxyCommand=x}}\nsteps: [{id: a, run: x}]', 'An ssh destination'],
  ['name: t\nparams: {n: {type: integer, default: many}}\nsteps: [{id: a, run: x}]', 'This param is an integer'],
  ['name: t\nparams: {p: {type: path, default: ""}}\nsteps: [{id: a, run: x}]', 'cannot be empty'],
  // An inventory, by its own modeline.
  ['# yaml-language-server: $schema=../schemas/inventory.schema.json\nhosts: {prod: {ssh: "-oX=y"}}', 'An ssh destination'],
  ['# yaml-language-server: $schema=../schemas/inventory.schema.json\ndatabases: {dev: {conninfo: x, tunnel: -p}}', 'A host name is'],
];
for (const [i, [body, want]] of mistakes.entries()) {
  const uri = uriOf(`runbooks/editor-mistake-${i}.yaml`);
  const diags = await server.open(uri, (body.startsWith('#') ? '' : MODELINE) + body + '\n');
  server.close(uri);
  const messages = diags.map((d) => d.message);
  check(messages.some((m) => m.includes(want)) && !messages.some((m) => GENERIC.test(m)),
    `${JSON.stringify(body)}: the editor says ${JSON.stringify(messages)}, expected a sentence with "${want}"`);
}

// 3. Completion: a key whose value must hold keys inserts them: an object its required keys, a
// list of steps a whole step (an id and a kind).
// The schemas that apply to a value whatever it holds: through $ref and allOf.
function always(schema, node, seen = new Set()) {
  if (!node || typeof node !== 'object' || seen.has(node)) return [];
  seen.add(node);
  const out = [node];
  if (node.$ref) out.push(...always(schema, deref(schema, node), seen));
  for (const s of node.allOf || []) out.push(...always(schema, s, seen));
  return out;
}
const requirementsMet = (schema, value, sch, whole) => {
  if (Array.isArray(value)) return value.length > 0 && requirementsMet(schema, value[0], itemsOf(schema, sch), true);
  if (!value || typeof value !== 'object') return false;
  for (const a of always(schema, sch)) {
    if ((a.required || []).some((r) => !(r in value))) return false;
    // "Exactly one of": a whole item has one.
    if (whole && a.oneOf && a.oneOf.every((b) => b.required) && !a.oneOf.some((b) => b.required.every((r) => r in value))) return false;
  }
  return true;
};
const unsnippet = (s) => s.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
const contexts = [
  ['top level', 'name: t\n\n', 1, 0, ['steps', 'finally']],
  ['a step', 'name: t\nsteps:\n  - id: a\n    \n', 3, 4, ['sql', 'copy_rows', 'cancel_queries', 'guards']],
  ['a guard', 'name: t\nsteps:\n  - id: a\n    run: x\n    guards:\n      - on_fail: warn\n        \n', 6, 8,
    ['postgres_idle', 'migrations_applied', 'backup_fresh', 'sql']],
  ['copy_rows', 'name: t\nsteps:\n  - id: a\n    copy_rows:\n      from: p\n      \n', 5, 6, ['match']],
];
for (const [where, body, line, character, keys] of contexts) {
  const uri = uriOf(`runbooks/editor-completion-${where.replace(/ /g, '-')}.yaml`);
  await server.open(uri, MODELINE + body);
  const result = await server.completion(uri, line + 1, character);
  server.close(uri);
  const items = result.items ?? result;
  for (const key of keys) {
    const item = items.find((it) => it.label === key);
    if (!item) {
      check(false, `completion in ${where} offers no '${key}' (offers ${items.map((it) => it.label).join(', ')})`);
      continue;
    }
    const inserted = unsnippet(item.insertText ?? item.textEdit?.newText ?? key);
    let value;
    try {
      value = YAML.parse(inserted)?.[key];
    } catch {
      value = undefined;
    }
    // The schema of the key: found through a document holding the key with the inserted value.
    const sch = where === 'top level' ? propertyOf(schemas.runbook, schemas.runbook, key)
      : where === 'a step' ? propertyOf(schemas.runbook, schemas.runbook.$defs.step, key)
        : where === 'a guard' ? propertyOf(schemas.runbook, schemas.runbook.$defs.guard, key)
          : propertyOf(schemas.runbook, schemas.runbook.$defs.step.properties.copy_rows, key);
    check(requirementsMet(schemas.runbook, value, sch, false),
      `completing '${key}' in ${where} inserts ${JSON.stringify(item.insertText)}, without the keys it needs`);
  }
}

// An empty item of a list of steps (of guards) offers a whole step (guard) of each kind.
for (const [what, body, line, def, kinds] of [
  ['step', 'name: t\nsteps:\n  - \n', 3, 'step', ['run', 'sql', 'copy_rows', 'cancel_queries', 'manual']],
  ['guard', 'name: t\nsteps:\n  - id: a\n    run: x\n    guards:\n      - \n', 6, 'guard',
    ['postgres_idle', 'migrations_applied', 'backup_fresh', 'sql', 'command']],
]) {
  const uri = uriOf(`runbooks/editor-completion-${what}-item.yaml`);
  await server.open(uri, MODELINE + body);
  const result = await server.completion(uri, line, body.split('\n')[line - 1].length);
  server.close(uri);
  const items = result.items ?? result;
  for (const kind of kinds) {
    const item = items.find((it) => it.label === `${kind} ${what}`);
    let value;
    try {
      value = item && YAML.parse(unsnippet(`- ${item.insertText}`))[0];
    } catch {
      value = undefined;
    }
    check(value && kind in value && requirementsMet(schemas.runbook, [value], { items: { $ref: `#/$defs/${def}` } }, false),
      `completing an empty ${what} offers no whole ${kind} ${what} (offers ${items.map((it) => it.label).join(', ')})`);
  }
}

// 4. Inventories: the modeline names the inventory schema by its stable $id's file name.
check(/\/inventory\.schema\.json$/.test(schemas.inventory.$id) && /\/runbook\.schema\.json$/.test(schemas.runbook.$id),
  'each schema has an $id ending in its file name');

await server.shutdown();
if (server.stderr.trim()) console.log(`server stderr:\n${server.stderr.trim()}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
