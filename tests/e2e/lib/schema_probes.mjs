// Probe cases for the schema/validator agreement test (tests/e2e/schemas.sh): one small runbook
// or inventory per (field, spelling), each otherwise valid, so that whatever the validator or the
// schema says about it is about that one value. The spellings are the ones YAML 1.2 (editors)
// and the validator may read differently: quoted and signed numbers, floats, hex and octal,
// booleans in every case, null, empty strings, durations, sizes, lists and mappings.
//
// Run alone, it writes the cases into a directory, to look at or to feed another tool:
//   node tests/e2e/lib/schema_probes.mjs DIR
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// YAML source spellings; each replaces @V@ in a block-mapping value position.
export const SPELLINGS = [
  '1', '"1"', '0', '"0"', '-1', '+1', '"+1"', '1.0', '1.5', '1e3', '0x1f', '0o17', '010', '"010"',
  '65536', 'true', '"true"', 'TRUE', '"TRUE"', 'tRuE', 'False', 'yes', '~', '""', '" "', '[]',
  '[x]', '[x=1]', '{}', '{a: b}', '0s', '5m', '"5m"', '1h30m', '30', '-1s', '5 minutes', 'abc',
  'prod', 'dev', 'Abc', 'a-b', 'a_b', 'a b', '-x', 'x=1', '1MB', '1 GB', '"${{ params.n }}"',
  '"${{ params.d }}"', '"${{ params.s }}"', 'echo ${{ params.s }}',
];

// The frame every runbook probe shares: one of each kind of thing a value may refer to.
const FRAME = `secrets:
  pw: {env: PW}
hosts:
  prod: {ssh: jane@prod}
databases:
  dev: {conninfo: "dbname=jane"}
  prod: {conninfo: "dbname=jane host=prod"}
params:
  n: {type: integer, default: 1}
  d: {type: duration, default: 5m}
  s: {type: string, default: x}
`;

// A runbook whose first step is `first`'s lines (indented under "- "), after a copy_rows step
// `parent` that matches may name.
function withStep(first) {
  return `name: probe
${FRAME}steps:
  - id: parent
    copy_rows: {from: prod, to: dev, table: t}
  - id: a
    needs: [parent]
${first.replace(/^/gm, '    ')}
`;
}
function withGuard(guard) {
  return withStep(`run: echo a\nguards:\n  - ${guard.replace(/\n/g, '\n    ')}`);
}

// Slot name -> runbook text with @V@.
export const RUNBOOK_SLOTS = {
  'name': `name: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'description': `name: probe\ndescription: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'lock': `name: probe\nlock: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'params': `name: probe\nparams: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'secrets': `name: probe\nsecrets: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'hosts': `name: probe\nhosts: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'databases': `name: probe\ndatabases: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'defaults': `name: probe\ndefaults: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'finally': `name: probe\nsteps:\n  - {id: a, run: echo a}\nfinally: @V@\n`,
  'defaults.host': `name: probe\n${FRAME}defaults:\n  host: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'defaults.timeout': `name: probe\ndefaults:\n  timeout: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'defaults.retries': `name: probe\ndefaults:\n  retries: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'param.type': `name: probe\nparams:\n  x:\n    type: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'param.description': `name: probe\nparams:\n  x:\n    description: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'secret.env': `name: probe\nsecrets:\n  x:\n    env: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'secret.file': `name: probe\nsecrets:\n  x:\n    file: @V@\nsteps:\n  - {id: a, run: echo a}\n`,
  'step.id': `name: probe\nsteps:\n  - id: @V@\n    run: echo a\n`,
  'step.description': withStep('run: echo a\ndescription: @V@'),
  'step.needs': withStep('run: echo a\nneeds: @V@'),
  'step.needs[]': withStep('run: echo a\nneeds:\n  - @V@'),
  'step.if': withStep('run: echo a\nif: @V@'),
  'step.host': withStep('run: echo a\nhost: @V@'),
  'step.user': withStep('run: echo a\nuser: @V@'),
  'step.cwd': withStep('run: echo a\ncwd: @V@'),
  'step.env': withStep('run: echo a\nenv: @V@'),
  'step.env.X': withStep('run: echo a\nenv:\n  X: @V@'),
  'step.timeout': withStep('run: echo a\ntimeout: @V@'),
  'step.retries': withStep('run: echo a\nretries: @V@'),
  'step.idempotent': withStep('run: echo a\nidempotent: @V@'),
  'step.confirm': withStep('run: echo a\nconfirm: @V@'),
  'step.guards': withStep('run: echo a\nguards: @V@'),
  'step.run': withStep('run: @V@'),
  'step.run[]': withStep('run:\n  - @V@'),
  'step.manual': withStep('manual: @V@'),
  'sql.db': withStep('sql:\n  db: @V@\n  query: SELECT 1'),
  'sql.query': withStep('sql:\n  db: dev\n  query: @V@'),
  'sql.file': withStep('sql:\n  db: dev\n  file: @V@'),
  'sql.show': withStep('sql:\n  db: dev\n  query: SELECT 1\n  show: @V@'),
  'sql.expect': withStep('sql:\n  db: dev\n  query: SELECT 1\n  expect: @V@'),
  'copy_rows.from': withStep('copy_rows:\n  from: @V@\n  to: dev\n  table: t'),
  'copy_rows.table': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: @V@'),
  'copy_rows.columns': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  columns: @V@'),
  'copy_rows.columns[]': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  columns:\n    - @V@'),
  'copy_rows.where': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  where: @V@'),
  'copy_rows.every': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  order_by: id\n  every: @V@'),
  'copy_rows.limit': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  limit: @V@'),
  'copy_rows.truncate': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  truncate: @V@'),
  'copy_rows.foreign_keys': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  foreign_keys: @V@'),
  'copy_rows.match': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  match: @V@'),
  'copy_rows.match.column': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  match:\n    column: @V@\n    step: parent\n    parent_column: id'),
  'copy_rows.match.step': withStep('copy_rows:\n  from: prod\n  to: dev\n  table: t\n  match:\n    column: id\n    step: @V@\n    parent_column: id'),
  'cancel_queries.db': withStep('cancel_queries:\n  db: @V@'),
  'cancel_queries.older_than': withStep('cancel_queries:\n  db: dev\n  older_than: @V@'),
  'cancel_queries.read_only': withStep('cancel_queries:\n  db: dev\n  read_only: @V@'),
  'cancel_queries.application_name': withStep('cancel_queries:\n  db: dev\n  application_name: @V@'),
  'guard.wait': withGuard('command: "true"\nwait: @V@'),
  'guard.on_fail': withGuard('command: "true"\non_fail: @V@'),
  'guard.host': withGuard('command: "true"\nhost: @V@'),
  'guard.command': withGuard('command: @V@'),
  'guard.command.run': withGuard('command:\n  run: @V@'),
  'guard.command.host': withGuard('command:\n  run: "true"\n  host: @V@'),
  'postgres_idle': withGuard('postgres_idle: @V@'),
  'postgres_idle.max_active': withGuard('postgres_idle:\n  db: dev\n  max_active: @V@'),
  'postgres_idle.ignore_applications': withGuard('postgres_idle:\n  db: dev\n  ignore_applications: @V@'),
  'migrations_applied.migrations_dir': withGuard('migrations_applied:\n  db: dev\n  migrations_dir: @V@'),
  'migrations_applied.django.manage': withGuard('migrations_applied:\n  db: dev\n  django:\n    manage: @V@'),
  'backup_fresh.path': withGuard('backup_fresh:\n  path: @V@'),
  'backup_fresh.max_age': withGuard('backup_fresh:\n  path: /b\n  max_age: @V@'),
  'backup_fresh.min_size': withGuard('backup_fresh:\n  path: /b\n  min_size: @V@'),
  'backup_fresh.verify': withGuard('backup_fresh:\n  path: /b\n  verify: @V@'),
  'sql_guard.query': withGuard('sql:\n  db: dev\n  query: @V@'),
  'sql_guard.expect': withGuard('sql:\n  db: dev\n  query: SELECT 1\n  expect: @V@'),
  'sql_guard.expect_rows': withGuard('sql:\n  db: dev\n  query: SELECT 1\n  expect_rows: @V@'),
};
for (const type of ['string', 'integer', 'number', 'boolean', 'path', 'duration']) {
  RUNBOOK_SLOTS[`param.default(${type})`] =
    `name: probe\nparams:\n  x:\n    type: ${type}\n    default: @V@\nsteps:\n  - {id: a, run: echo a}\n`;
}
RUNBOOK_SLOTS['param.default'] =
  `name: probe\nparams:\n  x:\n    default: @V@\nsteps:\n  - {id: a, run: echo a}\n`;

// Hosts and databases read the same in a runbook and an inventory: these slots are probed in
// both (the inventory against a runbook that declares nothing).
const HOST_SLOTS = {
  'host.ssh': 'ssh: @V@',
  'host.port': 'ssh: jane@prod\nport: @V@',
  'host.identity_file': 'ssh: jane@prod\nidentity_file: @V@',
  'host.options': 'ssh: jane@prod\noptions: @V@',
  'host.options[]': 'ssh: jane@prod\noptions:\n  - @V@',
  'host.options.X': 'ssh: jane@prod\noptions:\n  ServerAliveInterval: @V@',
  'host.local': 'local: @V@',
  'host.multiplex': 'ssh: jane@prod\nmultiplex: @V@',
};
const DATABASE_SLOTS = {
  'database.conninfo': 'conninfo: @V@',
  'database.password': 'conninfo: dbname=x\npassword: @V@',
  'database.tunnel': 'conninfo: dbname=x\ntunnel: @V@',
};
const indent = (text, n) => text.replace(/\n/g, '\n' + ' '.repeat(n));
for (const [slot, body] of Object.entries(HOST_SLOTS)) {
  RUNBOOK_SLOTS[slot] = `name: probe\nhosts:\n  prod:\n    ${indent(body, 4)}\nsteps:\n  - {id: a, run: echo a}\n`;
}
for (const [slot, body] of Object.entries(DATABASE_SLOTS)) {
  RUNBOOK_SLOTS[slot] = `name: probe\nhosts:\n  prod: {ssh: jane@prod}\ndatabases:\n  dev:\n    ${indent(body, 4)}\nsteps:\n  - {id: a, run: echo a}\n`;
}

export const INVENTORY_SLOTS = {
  'inventory': '@V@\n',
  'inventory.hosts': 'hosts: @V@\n',
  'inventory.databases': 'databases: @V@\n',
  'inventory.params': 'params: @V@\n',
  'inventory.params.X': 'params:\n  x: @V@\n',
};
// The inventory schema's hosts and databases are the runbook schema's (the agreement test checks
// that they are the same): one field of each is probed in an inventory too.
INVENTORY_SLOTS['inventory.host.ssh'] = `hosts:\n  prod:\n    ${HOST_SLOTS['host.ssh']}\n`;
INVENTORY_SLOTS['inventory.database.tunnel'] =
  `hosts:\n  prod: {ssh: jane@prod}\ndatabases:\n  dev:\n    ${indent(DATABASE_SLOTS['database.tunnel'], 4)}\n`;

// Writes every probe into `dir`; returns [{name, kind, file}], name being "probe:SLOT=SPELLING".
export function writeProbes(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cases = [];
  let i = 0;
  for (const [kind, slots] of [['runbook', RUNBOOK_SLOTS], ['inventory', INVENTORY_SLOTS]]) {
    for (const [slot, template] of Object.entries(slots)) {
      for (const spelling of SPELLINGS) {
        const file = path.join(dir, `${kind}-${String(++i).padStart(5, '0')}.yaml`);
        const name = `probe:${slot}=${spelling}`;
        fs.writeFileSync(file, `# ${name}\n` + template.replaceAll('@V@', spelling));
        cases.push({ name, kind, file });
      }
    }
  }
  return cases;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.length !== 3) {
    console.error('usage: node schema_probes.mjs DIR');
    process.exit(2);
  }
  console.log(`${writeProbes(process.argv[2]).length} probes written to ${process.argv[2]}`);
}
