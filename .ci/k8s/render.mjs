// A small, strict subset of `kustomize build` for deploy/kubernetes (no kustomize or kubectl
// package exists for Debian, and npm has none that does not download a binary): it renders
// exactly the kustomization features the base uses and refuses every other field, so that it can
// never silently render something kustomize would render differently.
//
// Supported, with kustomize's semantics (sigs.k8s.io/kustomize/api, v5):
//   resources:          local YAML files (one or more documents each); no directories, no URLs
//   configMapGenerator: name, files ("path" or "key=path"), literals ("key=value"), options
//   generatorOptions:   labels, annotations, disableNameSuffixHash (per generator: options:)
//   the load restrictor: every file must resolve (symlinks followed) inside the kustomization's
//                        directory ("LoadRestrictionsRootOnly", kustomize's default)
//   the name suffix hash of a generated ConfigMap: api/hasher (sha256 of the JSON of kind, name,
//                        data — Go's encoding/json: sorted keys, HTML-escaped — first 10 hex
//                        digits with 0 1 3 a e mapped to g h k m t); tested against kustomize's own
//                        test vectors in render.test.mjs
//   name references:    a generated ConfigMap's new name replaces its old one in pod templates'
//                       volumes (configMap, projected), env valueFrom.configMapKeyRef and
//                       envFrom.configMapRef, of Deployments, StatefulSets, DaemonSets, Jobs,
//                       ReplicaSets and Pods
//   output order:       kustomize's legacy kind order (Namespace, ..., ConfigMap, Secret, ...,
//                       Service, ..., Deployment, StatefulSet, CronJob, PodDisruptionBudget first;
//                       webhooks last; the rest by kind, then name)
//
// Usage: node render.mjs DIR > rendered.yaml     (or import { render } from "./render.mjs")
import { createHash } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const KUSTOMIZATION_FIELDS = new Set(["apiVersion", "kind", "resources", "configMapGenerator", "generatorOptions"]);
const GENERATOR_FIELDS = new Set(["name", "files", "literals", "options"]);
const OPTION_FIELDS = new Set(["labels", "annotations", "disableNameSuffixHash"]);

const ORDER_FIRST = ["Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
  "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints",
  "Service", "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet",
  "CronJob", "PodDisruptionBudget"];
const ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

export class KustomizeError extends Error {}

function fail(message) {
  throw new KustomizeError(message);
}

/** Go's json.Marshal of a JSON-able value: sorted object keys, HTML-safe escaping. */
export function goJson(value) {
  const sortKeys = (v) => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
    }
    return v;
  };
  return JSON.stringify(sortKeys(value))
    .replace(/[<>&\u2028\u2029\b\f]/g, (c) => {
      switch (c) {
        case "\b": return "\\u0008";
        case "\f": return "\\u000c";
        default: return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
      }
    });
}

/** kustomize's api/hasher encode(): the first 10 hex digits, 0 1 3 a e mapped to g h k m t. */
function encodeHash(hex) {
  const map = { 0: "g", 1: "h", 3: "k", a: "m", e: "t" };
  return [...hex.slice(0, 10)].map((c) => map[c] ?? c).join("");
}

/** kustomize's name suffix hash of a ConfigMap (api/hasher encodeConfigMap). */
export function configMapHash(cm) {
  const empty = (v) => v === undefined || v === null;
  const m = {
    kind: "ConfigMap",
    name: cm.metadata?.name ?? "",
    data: empty(cm.data) ? "" : cm.data,
  };
  if (!empty(cm.binaryData) && typeof cm.binaryData === "object") m.binaryData = cm.binaryData;
  return encodeHash(createHash("sha256").update(goJson(m), "utf8").digest("hex"));
}

function inside(root, file) {
  let real;
  try {
    real = realpathSync(file);
  } catch (e) {
    fail(`${path.relative(root, file)}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  const rel = path.relative(root, real);
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    fail(`security; file '${real}' is not in or below '${root}' (kustomize's load restrictor; copy it in)`);
  }
  return real;
}

function checkFields(what, object, allowed) {
  for (const key of Object.keys(object ?? {})) {
    if (!allowed.has(key)) fail(`${what}: field '${key}' is not supported by this renderer (render.mjs)`);
  }
}

function generateConfigMap(root, generator, defaults) {
  checkFields(`configMapGenerator '${generator.name}'`, generator, GENERATOR_FIELDS);
  checkFields(`configMapGenerator '${generator.name}' options`, generator.options, OPTION_FIELDS);
  checkFields("generatorOptions", defaults, OPTION_FIELDS);
  if (!generator.name) fail("configMapGenerator: an entry has no name");
  const data = {};
  const put = (key, value) => {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) fail(`configMapGenerator '${generator.name}': bad key '${key}'`);
    if (key in data) fail(`configMapGenerator '${generator.name}': key '${key}' twice`);
    data[key] = value;
  };
  for (const entry of generator.files ?? []) {
    const eq = entry.indexOf("=");
    const key = eq >= 0 ? entry.slice(0, eq) : path.basename(entry);
    const file = eq >= 0 ? entry.slice(eq + 1) : entry;
    const bytes = readFileSync(inside(root, path.resolve(root, file)));
    const text = bytes.toString("utf8");
    if (!Buffer.from(text, "utf8").equals(bytes)) fail(`${file}: not UTF-8 (kustomize would use binaryData)`);
    put(key, text);
  }
  for (const literal of generator.literals ?? []) {
    const eq = literal.indexOf("=");
    if (eq <= 0) fail(`configMapGenerator '${generator.name}': literal '${literal}' (expected: key=value)`);
    put(literal.slice(0, eq), literal.slice(eq + 1).replace(/^(["'])(.*)\1$/s, "$2"));
  }
  const options = { ...(defaults ?? {}), ...(generator.options ?? {}) };
  const labels = { ...(defaults?.labels ?? {}), ...(generator.options?.labels ?? {}) };
  const annotations = { ...(defaults?.annotations ?? {}), ...(generator.options?.annotations ?? {}) };
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: generator.name } };
  if (Object.keys(labels).length) cm.metadata.labels = labels;
  if (Object.keys(annotations).length) cm.metadata.annotations = annotations;
  cm.data = data;
  const renamed = options.disableNameSuffixHash === true ? generator.name : `${generator.name}-${configMapHash(cm)}`;
  return { cm: { ...cm, metadata: { ...cm.metadata, name: renamed } }, from: generator.name };
}

function podSpecs(resource) {
  switch (resource.kind) {
    case "Pod": return [resource.spec];
    case "Deployment": case "StatefulSet": case "DaemonSet": case "ReplicaSet": case "Job":
      return [resource.spec?.template?.spec];
    case "CronJob": return [resource.spec?.jobTemplate?.spec?.template?.spec];
    default: return [];
  }
}

function renameConfigMapRefs(resource, names) {
  const rename = (ref) => {
    if (ref && typeof ref.name === "string" && names.has(ref.name)) ref.name = names.get(ref.name);
  };
  for (const spec of podSpecs(resource)) {
    if (!spec) continue;
    for (const volume of spec.volumes ?? []) {
      rename(volume.configMap);
      for (const source of volume.projected?.sources ?? []) rename(source.configMap);
    }
    for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const env of container.env ?? []) rename(env.valueFrom?.configMapKeyRef);
      for (const from of container.envFrom ?? []) rename(from.configMapRef);
    }
  }
}

function order(a, b) {
  const rank = (kind) => {
    const first = ORDER_FIRST.indexOf(kind);
    if (first >= 0) return first;
    const last = ORDER_LAST.indexOf(kind);
    return last >= 0 ? ORDER_FIRST.length + 1 + last : ORDER_FIRST.length;
  };
  return rank(a.kind) - rank(b.kind) || String(a.kind).localeCompare(String(b.kind))
    || String(a.metadata?.name).localeCompare(String(b.metadata?.name));
}

/** Renders the kustomization in DIR: an array of resource objects, in kustomize's output order. */
export function render(dir) {
  const root = realpathSync(dir);
  const kfile = ["kustomization.yaml", "kustomization.yml", "Kustomization"].map((f) => path.join(root, f))
    .find((f) => { try { realpathSync(f); return true; } catch { return false; } });
  if (!kfile) fail(`${dir}: no kustomization.yaml`);
  const k = yaml.load(readFileSync(kfile, "utf8"));
  checkFields("kustomization.yaml", k, KUSTOMIZATION_FIELDS);
  if (k.apiVersion !== undefined && k.apiVersion !== "kustomize.config.k8s.io/v1beta1") fail(`apiVersion: ${k.apiVersion}`);
  if (k.kind !== undefined && k.kind !== "Kustomization") fail(`kind: ${k.kind}`);
  const resources = [];
  for (const entry of k.resources ?? []) {
    if (/^[a-z]+:\/\//.test(entry) || entry.includes("?ref=")) fail(`resources: '${entry}': remote resources are not supported`);
    const file = inside(root, path.resolve(root, entry));
    for (const doc of yaml.loadAll(readFileSync(file, "utf8"))) {
      if (doc === null || doc === undefined) continue;
      if (!doc.apiVersion || !doc.kind || !doc.metadata?.name) fail(`${entry}: a document without apiVersion, kind or metadata.name`);
      resources.push(doc);
    }
  }
  const names = new Map();
  for (const generator of k.configMapGenerator ?? []) {
    const { cm, from } = generateConfigMap(root, generator, k.generatorOptions);
    names.set(from, cm.metadata.name);
    resources.push(cm);
  }
  const ids = new Set();
  for (const r of resources) {
    const id = `${r.apiVersion}/${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}`;
    if (ids.has(id)) fail(`may not add resource with an already registered id: ${id}`);
    ids.add(id);
    renameConfigMapRefs(r, names);
  }
  return resources.sort(order);
}

/** The rendered resources as one multi-document YAML stream, like `kustomize build`. */
export function toYaml(resources) {
  return resources.map((r) => yaml.dump(r, { lineWidth: -1, noRefs: true })).join("---\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(toYaml(render(process.argv[2] ?? ".")));
  } catch (e) {
    if (!(e instanceof KustomizeError)) throw e;
    console.error(`Error: ${e.message}`);
    process.exit(1);
  }
}
