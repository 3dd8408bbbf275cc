// Plans printed by `runbook plan --format json` validate against schemas/plan.schema.json
// (tests/e2e/schemas.sh makes the plans and runs this).
//
//   node plan_schema.mjs PLAN.json...
// Env: SOURCE_DIR (the repository root).
//
// ajv reads the schema as schema_agree.mjs reads the runbook schema (draft 2020-12, strict). Each
// file that does not validate is a FAIL line with ajv's errors; the exit status is 1 then.
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';

const root = process.env.SOURCE_DIR;
if (!root || process.argv.length < 3) {
  console.error('usage: SOURCE_DIR=... node plan_schema.mjs PLAN.json...');
  process.exit(2);
}
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true, strictRequired: false });
const validate = ajv.compile(JSON.parse(fs.readFileSync(`${root}/schemas/plan.schema.json`, 'utf8')));
let failed = 0;
for (const file of process.argv.slice(2)) {
  const plan = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (validate(plan)) {
    console.log(`ok: ${file} validates against schemas/plan.schema.json`);
  } else {
    failed++;
    console.log(`FAIL ${file}: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}`);
  }
}
process.exit(failed ? 1 : 0);
