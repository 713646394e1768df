// Validates Kubernetes manifests against the Kubernetes and prometheus-operator schemas, twice:
//   1. kubernetes-models' validate() (@kubernetes-models/validate: the API's OpenAPI schemas and
//      the CRDs' schemas compiled with ajv): required fields, types, enums, patterns, formats;
//   2. the same packages' TypeScript types, with tsc's excess-property check on each manifest as an
//      object literal: a field the API does not have (a typo such as `readinessProb`) fails, which
//      the OpenAPI schemas alone allow (they do not forbid additional properties).
// An apiVersion/kind with no model is an error too.
//
//   node validate.mjs FILE.yaml...        (multi-document YAML, e.g. the output of render.mjs)
//   import { validate } from "./validate.mjs"   → a list of error strings, empty when valid
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The module that models apiVersion/kind, or null. */
function modelModule(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind)) return null;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

/** The model class of apiVersion/kind, or null when neither package has one. */
async function model(apiVersion, kind) {
  const module = modelModule(apiVersion, kind);
  if (!module) return null;
  try {
    return (await import(module))[kind] ?? null;
  } catch (e) {
    if (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return null;
    throw e;
  }
}

const label = (r, i) => `#${i + 1} ${r?.kind ?? "?"}/${r?.metadata?.name ?? "?"}`;

/** Schema validation of each resource; returns error strings. */
export async function validateSchemas(resources) {
  const errors = [];
  for (const [i, r] of resources.entries()) {
    const Model = await model(r?.apiVersion, r?.kind);
    if (!Model) {
      errors.push(`${label(r, i)}: no schema for apiVersion ${r?.apiVersion}, kind ${r?.kind}`);
      continue;
    }
    try {
      new Model(r).validate();
    } catch (e) {
      errors.push(`${label(r, i)}: ${e.message}`);
    }
  }
  return errors;
}

/** tsc's excess-property check of each resource against its model's type; returns error strings. */
export async function validateFields(resources) {
  const dir = mkdtempSync(path.join(tmpdir(), "k8s-types-"));
  try {
    const lines = [];
    for (const [i, r] of resources.entries()) {
      if (!await model(r?.apiVersion, r?.kind)) continue;
      const module = modelModule(r.apiVersion, r.kind);
      lines.push(`import type { I${r.kind} as T${i} } from ${JSON.stringify(module)};`);
      lines.push(`// ${label(r, i)}`);
      lines.push(`export const r${i}: T${i} = ${JSON.stringify(r, null, 2)};`);
    }
    writeFileSync(path.join(dir, "manifests.ts"), lines.join("\n") + "\n");
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022",
        skipLibCheck: true, typeRoots: [], types: [], baseUrl: HERE, paths: { "*": [path.join(HERE, "node_modules/*")] },
      },
      files: ["manifests.ts"],
    }));
    try {
      execFileSync(process.execPath, [path.join(HERE, "node_modules/typescript/bin/tsc"), "-p", dir],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return [];
    } catch (e) {
      const text = readFileSync(path.join(dir, "manifests.ts"), "utf8").split("\n");
      return (e.stdout || e.message).trim().split("\n").filter((l) => l.includes("error TS")).map((l) => {
        const m = /manifests\.ts\((\d+),/.exec(l);
        const at = m ? text.slice(0, Number(m[1])).reverse().find((t) => t.startsWith("// #")) : null;
        return `${at ? at.slice(3) : "?"}: ${l.replace(/^.*error TS\d+: /, "")}`;
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function validate(resources) {
  return [...await validateSchemas(resources), ...await validateFields(resources)];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const resources = process.argv.slice(2).flatMap((f) => yaml.loadAll(readFileSync(f, "utf8")).filter((d) => d != null));
  const errors = await validate(resources);
  for (const r of resources) console.log(`  ${r.apiVersion} ${r.kind}/${r.metadata?.name}`);

  if (errors.length) {
    for (const e of errors) console.error(`INVALID ${e}`);
    process.exit(1);
  }
  console.log(`${resources.length} manifests valid (Kubernetes and prometheus-operator schemas; no unknown fields)`);
}
