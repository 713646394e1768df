// Tests of render.mjs, the kustomize subset: kustomize's own hash test vectors
// (sigs.k8s.io/kustomize/api/hasher, hasher_test.go), the load restrictor, refused fields, name
// references and the output order.   node --test .ci/k8s/
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import yaml from "js-yaml";
import { configMapHash, goJson, render } from "./render.mjs";

test("hash: kustomize's test vectors for ConfigMaps", () => {
  const cases = [
    ["apiVersion: v1\nkind: ConfigMap", "6ct58987ht"],
    ["apiVersion: v1\nkind: ConfigMap\ndata:\n  one: \"\"", "9g67k2htb6"],
    ["apiVersion: v1\nkind: ConfigMap\ndata:\n  two: 2\n  one: \"\"\n  three: 3", "7757f9kkct"],
    ["apiVersion: v1\nkind: ConfigMap\nbinaryData:\n  one: \"\"", "6mtk2m274t"],
    ["apiVersion: v1\nkind: ConfigMap\nbinaryData:\n  two: 2\n  one: \"\"\n  three: 3", "9th7kc28dg"],
    ["apiVersion: v1\nkind: ConfigMap\ndata:\n  one: \"\"\nbinaryData:\n  two: \"\"", "698h7c7t9m"],
  ];
  for (const [doc, hash] of cases) assert.equal(configMapHash(yaml.load(doc)), hash, doc);
});

test("goJson: sorted keys and Go's HTML-safe escaping", () => {
  assert.equal(goJson({ b: "x<y>&z\u2028", a: { d: 1, c: [2] } }), '{"a":{"c":[2],"d":1},"b":"x\\u003cy\\u003e\\u0026z\\u2028"}');
  assert.equal(goJson({ data: "", kind: "ConfigMap", name: "" }), '{"data":"","kind":"ConfigMap","name":""}');
});

function base(files) {
  const dir = mkdtempSync(path.join(tmpdir(), "render-test-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: c
          envFrom:
            - configMapRef: { name: cfg }
          env:
            - name: X
              valueFrom: { configMapKeyRef: { name: cfg, key: a } }
      volumes:
        - name: v
          configMap: { name: cfg }
        - name: p
          projected: { sources: [ { configMap: { name: cfg } } ] }
        - name: other
          configMap: { name: not-generated }
`;

test("configMapGenerator: hashed name, every reference renamed, options, order", () => {
  const dir = base({
    "kustomization.yaml": `resources: [deployment.yaml, service.yaml]
configMapGenerator:
  - name: cfg
    files: [app.yaml, renamed.json=sub/x.json]
    literals: [k=v]
  - name: fixed
    files: [app.yaml]
    options: { disableNameSuffixHash: true, labels: { grafana_dashboard: "1" } }
`,
    "deployment.yaml": DEPLOYMENT,
    "service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\n",
    "app.yaml": "a: 1\n",
    "sub/x.json": "{\"x\": \"<&>\"}\n",
  });
  const out = render(dir);
  assert.deepEqual(out.map((r) => `${r.kind}/${r.metadata.name}`),
    ["ConfigMap/cfg-" + configMapHash({ metadata: { name: "cfg" }, data: { "app.yaml": "a: 1\n", "renamed.json": "{\"x\": \"<&>\"}\n", k: "v" } }),
      "ConfigMap/fixed", "Service/app", "Deployment/app"]);
  const cfg = out[0].metadata.name;
  assert.deepEqual(out[1].metadata.labels, { grafana_dashboard: "1" });
  assert.deepEqual(out[1].data, { "app.yaml": "a: 1\n" });
  const spec = out[3].spec.template.spec;
  assert.equal(spec.containers[0].envFrom[0].configMapRef.name, cfg);
  assert.equal(spec.containers[0].env[0].valueFrom.configMapKeyRef.name, cfg);
  assert.equal(spec.volumes[0].configMap.name, cfg);
  assert.equal(spec.volumes[1].projected.sources[0].configMap.name, cfg);
  assert.equal(spec.volumes[2].configMap.name, "not-generated");
});

test("load restrictor: a file outside the kustomization, even through a symlink, is refused", () => {
  const outside = base({ "secret.json": "{}" });
  const dir = base({ "kustomization.yaml": "configMapGenerator:\n  - name: d\n    files: [d.json]\n" });
  symlinkSync(path.join(outside, "secret.json"), path.join(dir, "d.json"));
  assert.throws(() => render(dir), /security; file .* is not in or below/);
  const up = base({ "kustomization.yaml": "configMapGenerator:\n  - name: d\n    files: [../x.json]\n" });
  writeFileSync(path.join(path.dirname(up), "x.json"), "{}");
  assert.throws(() => render(up), /is not in or below/);
});

test("anything else kustomize knows is refused, not ignored", () => {
  for (const k of ["namePrefix: x-\n", "patches: []\n", "images: []\n", "labels: []\n",
    "configMapGenerator:\n  - name: a\n    behavior: merge\n", "configMapGenerator:\n  - name: a\n    options: { immutable: true }\n"]) {
    assert.throws(() => render(base({ "kustomization.yaml": k })), /not supported by this renderer/, k);
  }
  assert.throws(() => render(base({ "kustomization.yaml": "resources: [https://example.org/x.yaml]\n" })), /remote/);
  assert.throws(() => render(base({ "kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
    "a.yaml": "apiVersion: v1\nkind: Service\nmetadata: { name: s }\n",
    "b.yaml": "apiVersion: v1\nkind: Service\nmetadata: { name: s }\n" })), /already registered id/);
});
