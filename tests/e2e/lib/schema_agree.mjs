// The JSON Schemas and `runbook validate` judge the same files the same way (tests/e2e/schemas.sh
// runs this and says which files; see there).
//
//   node schema_agree.mjs RULES_FILE
// Env: RUNBOOK (the binary), SOURCE_DIR (the repository root).
//
// Each case is a runbook or an inventory. The schema side reads it as an editor does: YAML 1.2
// (the `yaml` package, which yaml-language-server uses), duplicate keys and syntax errors being
// errors, then ajv with the schema. The validator side is `runbook validate FILE...` (an
// inventory: `runbook validate RUNBOOK -i FILE`). A case passes when both accept or both refuse.
// A case that only the validator refuses passes when every error it prints is excused by a rule
// of RULES_FILE (lines "CASE_GLOB | MESSAGE_REGEX | WHY": what only the validator can judge);
// a case that only the schema refuses never passes (an editor must not flag a valid file). A rule
// that excuses nothing fails too, so the list stays true.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { writeProbes } from './schema_probes.mjs';

const runbookBin = process.env.RUNBOOK;
const root = process.env.SOURCE_DIR;
if (!runbookBin || !root || process.argv.length !== 3) {
  console.error('usage: RUNBOOK=... SOURCE_DIR=... node schema_agree.mjs RULES_FILE');
  process.exit(2);
}
process.chdir(root);

let passed = 0;
let failed = 0;
const fail = (msg) => {
  failed++;
  console.log(`FAIL ${msg}`);
};

// --- the schemas -------------------------------------------------------------------------------
// Keywords for editors (yaml-language-server), not for validation.
const EDITOR_KEYWORDS = ['defaultSnippets', 'markdownDescription', 'patternErrorMessage',
  'errorMessage', 'doNotSuggest'];
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true, strictRequired: false });
ajv.addVocabulary(EDITOR_KEYWORDS);
const validators = {};
for (const kind of ['runbook', 'inventory']) {
  try {
    validators[kind] = ajv.compile(JSON.parse(fs.readFileSync(`schemas/${kind}.schema.json`, 'utf8')));
    passed++;
  } catch (e) {
    fail(`schemas/${kind}.schema.json does not compile: ${e.message}`);
  }
}
// The inventory schema's definitions are the runbook schema's (hosts and databases read the same
// in both files): copies, checked to be the same.
{
  const [rb, inv] = ['runbook', 'inventory'].map((k) => JSON.parse(fs.readFileSync(`schemas/${k}.schema.json`, 'utf8')));
  for (const [name, def] of Object.entries(inv.$defs)) {
    if (JSON.stringify(def) === JSON.stringify(rb.$defs[name])) passed++;
    else fail(`schemas/inventory.schema.json: $defs.${name} is not the runbook schema's`);
  }
}
if (failed) process.exit(1);

// The schema's verdict on a file, as an editor sees it: null when valid, else the first reason.
function schemaVerdict(kind, text) {
  const docs = YAML.parseAllDocuments(text, { version: '1.2', uniqueKeys: true, merge: false });
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length) return `YAML: ${doc.errors[0].message.split('\n')[0]}`;
    let value;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      return `YAML: ${e.message.split('\n')[0]}`;
    }
    value ??= null;
    if (!validators[kind](value)) {
      const e = validators[kind].errors[0];
      return `${e.instancePath || '/'} ${e.message}`;
    }
  }
  return null;
}

// --- the validator -----------------------------------------------------------------------------
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(runbookBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// The validator's verdict on each case: {ok, errors (the messages located in the case's file),
// failure (when it did not answer with exit 0 or 2)}. Runbooks go many to one `runbook validate`
// (it prints "FILE: ok" for each good one), an inventory one to a run, after its runbook.
async function validatorVerdicts(list) {
  const verdicts = new Map();
  const located = (stderr, file) => stderr.split('\n').filter((l) => l.startsWith(file + ':'))
    .map((l) => l.slice(file.length + 1).replace(/^\d+:\d+: /, ''));
  const runbooks = list.filter((c) => c.kind === 'runbook');
  const jobs = [];
  for (let i = 0; i < runbooks.length; i += 500) {
    const batch = runbooks.slice(i, i + 500);
    jobs.push(async () => {
      const { code, stdout, stderr } = await run(['validate', ...batch.map((c) => c.file)]);
      const good = new Set(stdout.split('\n').map((l) => l.replace(/: ok \(.*$/, '')));
      for (const c of batch) {
        verdicts.set(c, code !== 0 && code !== 2
          ? { failure: `runbook validate exited ${code}: ${stderr}` }
          : { ok: good.has(c.file), errors: located(stderr, c.file), stderr });
      }
    });
  }
  for (const c of list.filter((x) => x.kind === 'inventory')) {
    jobs.push(async () => {
      const { code, stderr } = await run(['validate', c.runbook || EMPTY_RUNBOOK, '-i', c.file]);
      verdicts.set(c, code !== 0 && code !== 2
        ? { failure: `runbook validate -i exited ${code}: ${stderr}` }
        : { ok: code === 0, errors: located(stderr, c.file), stderr });
    });
  }
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (jobs.length) await jobs.shift()();
  }));
  return verdicts;
}

// --- the cases ---------------------------------------------------------------------------------
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-agree-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const EMPTY_RUNBOOK = path.join(tmp, 'empty-runbook.yaml');
fs.writeFileSync(EMPTY_RUNBOOK, 'name: inventory-probe\nsteps:\n  - {id: a, run: echo a}\n');

const list = (dir, re) => fs.existsSync(dir)
  ? fs.readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f)) : [];

// Which schema a YAML text gets: its modeline's, else a top-level `steps:` makes a runbook and
// top-level keys all among hosts, databases and params an inventory; else none (a fragment).
function kindOf(text) {
  const modeline = text.match(/yaml-language-server:\s*\$schema=\S*?(runbook|inventory)\.schema\.json/);
  if (modeline) return modeline[1];
  if (/^steps:/m.test(text)) return 'runbook';
  const keys = [...text.matchAll(/^([A-Za-z_][^:#\s]*):/gm)].map((m) => m[1]);
  if (keys.length && keys.every((k) => ['hosts', 'databases', 'params'].includes(k))) return 'inventory';
  return null;
}

const cases = [];
const skipped = [];
// The corpus: runbooks, and the inventories with the corpus runbook whose `# args: -i` names them.
const inventoryRunbook = {};
for (const file of list('tests/invalid', /\.ya?ml$/)) {
  const text = fs.readFileSync(file, 'utf8');
  cases.push({ name: file, kind: 'runbook', file, schemaReject: /^# schema: reject$/m.test(text) });
  for (const m of text.matchAll(/^# args:.*-i (\S+)/gm)) inventoryRunbook[m[1]] = file;
}
for (const file of list('tests/invalid/inventories', /\.ya?ml$/)) {
  cases.push({ name: file, kind: 'inventory', file, runbook: inventoryRunbook[file] });
}
// The shipped runbooks and examples, the unit tests' example files, the docs' yaml blocks.
const shipped = [...list('runbooks', /\.ya?ml$/), ...list('tests/unit/testdata', /\.ya?ml$/)];
const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
if (fs.existsSync('examples')) shipped.push(...walk('examples').filter((f) => /\.ya?ml$/.test(f)).sort());
for (const file of shipped) {
  const kind = kindOf(fs.readFileSync(file, 'utf8'));
  if (kind) cases.push({ name: file, kind, file, valid: true });
  else skipped.push(file);
}
// A doc block that is part of a runbook is checked inside the smallest runbook around it: a list
// of steps under `steps:`, a step's keys in a step, sections beside a one-step runbook. (What it
// names but does not declare is then a cross reference, which only the validator judges.)
const TOP_KEYS = ['name', 'description', 'params', 'secrets', 'hosts', 'databases', 'defaults', 'steps', 'finally'];
const STEP_KEYS = ['id', 'description', 'needs', 'if', 'host', 'user', 'cwd', 'env', 'timeout', 'retries',
  'idempotent', 'confirm', 'guards', 'done_when', 'verify', 'run', 'sql', 'copy_rows', 'cancel_queries', 'manual'];
const indentBy = (text, n) => text.replace(/^(?=.)/gm, ' '.repeat(n));
function wrapFragment(text) {
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  if (lines.length && lines[0].startsWith('- ')) return `name: doc-example\nsteps:\n${indentBy(text, 2)}`;
  const keys = lines.filter((l) => /^[A-Za-z_]/.test(l)).map((l) => l.replace(/:.*/, ''));
  if (!keys.length || new Set(keys).size !== keys.length) return null;
  if (keys.every((k) => TOP_KEYS.includes(k))) {
    return (keys.includes('name') ? '' : 'name: doc-example\n') + text +
      (keys.includes('steps') ? '' : '\nsteps:\n  - {id: doc-example, run: "true"}\n');
  }
  if (keys.every((k) => STEP_KEYS.includes(k))) {
    const kind = keys.some((k) => ['run', 'sql', 'copy_rows', 'cancel_queries', 'manual'].includes(k));
    return `name: doc-example\nsteps:\n  - id: doc-example\n${kind ? '' : '    run: "true"\n'}${indentBy(text, 4)}`;
  }
  return null;
}
const markdown = ['README.md', ...list('docs', /\.md$/), ...list('runbooks', /\.md$/)];
for (const md of markdown.filter((f) => fs.existsSync(f))) {
  const blocks = [...fs.readFileSync(md, 'utf8').matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)];
  blocks.forEach((m, i) => {
    const name = `${md}#yaml${i + 1}`;
    let text = m[1];
    let kind = kindOf(text);
    // Hosts, databases or params alone may be an inventory or part of a runbook: what they name
    // may be declared elsewhere.
    let valid = kind === 'inventory' && !/yaml-language-server:/.test(text) ? 'fragment' : true;
    if (!kind && (text = wrapFragment(m[1])) !== null) {
      kind = 'runbook';
      valid = 'fragment';
    }
    if (!kind) {
      skipped.push(name);
      return;
    }
    const file = path.join(tmp, `${md.replace(/\//g, '_')}.${i + 1}.yaml`);
    fs.writeFileSync(file, text);
    cases.push({ name, kind, file, valid });
  });
}
const corpusAndDocs = cases.length;
cases.push(...writeProbes(path.join(tmp, 'probes')));

// --- the rules ---------------------------------------------------------------------------------
const rules = fs.readFileSync(process.argv[2], 'utf8').split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((line) => {
    const m = /^(\S+) \| (.+) \| ([^|]+)$/.exec(line.trim());
    if (!m) throw new Error(`a rule is "CASE_GLOB | MESSAGE_REGEX | WHY": ${line}`);
    const [, glob, regex, why] = m;
    const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
      .replace(/\?/g, '.') + '$', 's');
    return { line, why, caseRe: re, msgRe: new RegExp(regex), used: 0 };
  });

// --- judging -----------------------------------------------------------------------------------
const verdicts = await validatorVerdicts(cases);
for (const c of cases) {
  const schema = schemaVerdict(c.kind, fs.readFileSync(c.file, 'utf8'));
  const v = verdicts.get(c);
  if (v.failure) {
    fail(`${c.name}: ${v.failure}`);
    continue;
  }
  // The shipped files and the docs' examples are good runbooks: both accept them (a fragment may
  // name what its runbook would declare).
  if (c.valid && schema !== null) {
    fail(`${c.name}: the schema refuses it: ${schema}`);
    continue;
  }
  if (c.valid === true && !v.ok) {
    fail(`${c.name}: runbook validate refuses it:\n    ${v.errors.join('\n    ') || v.stderr.trim()}`);
    continue;
  }
  if (v.ok === (schema === null)) {
    passed++;
    continue;
  }
  if (v.ok) {
    fail(`${c.name}: the validator accepts it, the schema refuses it: ${schema}`);
    continue;
  }
  // Only the validator refuses: each of its errors must be excused by a rule.
  const errors = v.errors.length ? v.errors : [v.stderr.trim()];
  const unexcused = errors.filter((msg) => {
    const r = rules.find((rule) => rule.caseRe.test(c.name) && rule.msgRe.test(msg));
    if (r) r.used++;
    return !r;
  });
  if (unexcused.length === 0 && !c.schemaReject) {
    passed++;
    continue;
  }
  fail(`${c.name}: the validator refuses it, the schema accepts it${c.schemaReject
    ? ' (and its header says "# schema: reject")' : ''}:\n    ${(unexcused.length ? unexcused : errors).join('\n    ')}`);
}
for (const r of rules) {
  if (r.used) passed++;
  else fail(`the rule "${r.line}" excuses no case: remove it`);
}
console.log(`checked ${corpusAndDocs} corpus, shipped and doc cases and ${cases.length - corpusAndDocs} probes; ` +
  `${rules.length} rules for what only the validator judges`);
if (skipped.length) console.log(`not a runbook or inventory (skipped): ${skipped.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
