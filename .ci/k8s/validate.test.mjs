// validate.mjs must reject what the Kubernetes API or prometheus-operator would: each mutation of
// the real rendered base below is one mistake, and each must be reported for that resource.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { render } from "./render.mjs";
import { validate } from "./validate.mjs";

const BASE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deploy/kubernetes");
const fresh = () => render(BASE);
const find = (rs, kind) => rs.find((r) => r.kind === kind);

test("the rendered base is valid", async () => {
  assert.deepEqual(await validate(fresh()), []);
});

const mutations = {
  "a misspelt field (readinessProb)": [(rs) => {
    const c = find(rs, "Deployment").spec.template.spec.containers[0];
    c.readinessProb = c.readinessProbe;
  }, /Deployment\/closewatch: .*readinessProb.* does not exist in type 'IContainer'/],
  "a port number as a string": [(rs) => {
    find(rs, "Deployment").spec.template.spec.containers[0].ports[0].containerPort = "8080";
  }, /Deployment\/closewatch: .*containerPort must be integer/],
  "a Deployment without a selector": [(rs) => {
    delete find(rs, "Deployment").spec.selector;
  }, /Deployment\/closewatch: .*selector/],
  "a bad scrape interval in the PodMonitor": [(rs) => {
    find(rs, "PodMonitor").spec.podMetricsEndpoints[0].interval = "15 seconds";
  }, /PodMonitor\/closewatch: .*interval must match pattern/],
  "a rule group without a name": [(rs) => {
    delete find(rs, "PrometheusRule").spec.groups[0].name;
  }, /PrometheusRule\/closewatch: .*name/],
  "an unknown field in a PrometheusRule rule": [(rs) => {
    find(rs, "PrometheusRule").spec.groups[1].rules[0].expression = "up";
  }, /PrometheusRule\/closewatch: .*expression.* does not exist/],
  "a kind that does not exist": [(rs) => {
    find(rs, "Service").kind = "Servcie";
  }, /Servcie\/closewatch: no schema for apiVersion v1, kind Servcie/],
};

for (const [name, [mutate, expected]] of Object.entries(mutations)) {
  test(`refused: ${name}`, async () => {
    const rs = fresh();
    mutate(rs);
    const errors = await validate(rs);
    assert.ok(errors.some((e) => expected.test(e)), `expected ${expected} in:\n${errors.join("\n")}`);
  });
}
