// What deploy/kubernetes promises, checked on the rendered base (render.mjs): the PrometheusRule's
// rules are the rules of grafana/alerts/closewatch.rules.yml (compared parsed, whatever the text),
// the dashboard ConfigMap holds grafana/dashboards/closewatch.json byte for byte, the drain fits in
// terminationGracePeriodSeconds, the probes and the PodMonitor hit the admin port that
// closewatch.yaml listens on, the pod runs as the image's user on a read-only root filesystem,
// and the ConfigMap's closewatch.yaml passes `closewatch check-config` ($CLOSEWATCH_JAR).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { render } from "./render.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const rendered = render(path.join(ROOT, "deploy/kubernetes"));
const one = (kind, name) => {
  const found = rendered.filter((r) => r.kind === kind && (!name || r.metadata.name.startsWith(name)));
  assert.equal(found.length, 1, `one ${kind} ${name ?? ""}`);
  return found[0];
};
const deployment = one("Deployment");
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const configMap = one("ConfigMap", "closewatch-config-");
const config = yaml.load(configMap.data["closewatch.yaml"]);
const seconds = (d, fallback) => {
  if (d === undefined) return fallback;
  const m = /^(\d+)(ms|s|m)$/.exec(String(d));
  assert.ok(m, `duration ${d}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2]];
};

test("PrometheusRule: exactly the rules of grafana/alerts/closewatch.rules.yml", () => {
  const source = yaml.load(readFileSync(path.join(ROOT, "grafana/alerts/closewatch.rules.yml"), "utf8"));
  assert.deepEqual(one("PrometheusRule").spec, { groups: source.groups });
  assert.ok(source.groups.flatMap((g) => g.rules).some((r) => r.alert), "the rules have alerts");
});

test("dashboard ConfigMap: grafana/dashboards/closewatch.json byte for byte, labelled for the Grafana sidecar", () => {
  const cm = one("ConfigMap", "closewatch-dashboard");
  assert.equal(cm.metadata.name, "closewatch-dashboard");
  assert.deepEqual(cm.metadata.labels, { grafana_dashboard: "1" });
  assert.deepEqual(Object.keys(cm.data), ["closewatch.json"]);
  assert.equal(cm.data["closewatch.json"], readFileSync(path.join(ROOT, "grafana/dashboards/closewatch.json"), "utf8"));
});

test("drain: terminationGracePeriodSeconds >= unready_delay + spread + timeout + 5 s", () => {
  const drain = config.drain ?? {};
  const needed = seconds(drain.unready_delay, 5) + seconds(drain.spread, 10) + seconds(drain.timeout, 10) + 5;
  assert.equal(needed, 30);
  assert.ok(pod.spec.terminationGracePeriodSeconds >= needed, `${pod.spec.terminationGracePeriodSeconds} < ${needed}`);
});

test("probes, PodMonitor and Service: the ports closewatch.yaml listens on", () => {
  const port = (name) => container.ports.find((p) => p.name === name)?.containerPort;
  assert.equal(config.admin.listen, `0.0.0.0:${port("admin")}`);
  assert.equal(config.listen, `0.0.0.0:${port("websocket")}`);
  assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "admin" });
  assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "admin" });
  assert.deepEqual(container.startupProbe.httpGet, { path: "/healthz", port: "admin" });
  assert.deepEqual(one("PodMonitor").spec.podMetricsEndpoints.map((e) => [e.port, e.path]), [["admin", "/metrics"]]);
  assert.deepEqual(one("Service").spec.ports.map((p) => p.targetPort), ["websocket"]);
  for (const selector of [one("Service").spec.selector, one("PodDisruptionBudget").spec.selector.matchLabels,
    one("PodMonitor").spec.selector.matchLabels, deployment.spec.selector.matchLabels]) {
    for (const [k, v] of Object.entries(selector)) assert.equal(pod.metadata.labels[k], v, `pod label ${k}`);
  }
  // CloseWatchDown reads up{job="closewatch"}
  assert.equal(pod.metadata.labels[one("PodMonitor").spec.jobLabel], "closewatch");
});

test("pod security: the image's non-root UID, read-only root filesystem, a writable /tmp", () => {
  const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
  assert.match(dockerfile, /^USER 10001:10001$/m);
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  assert.equal(pod.spec.securityContext.runAsUser, 10001);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  const tmp = container.volumeMounts.find((m) => m.mountPath === "/tmp");
  assert.ok(pod.spec.volumes.find((v) => v.name === tmp?.name)?.emptyDir, "/tmp is an emptyDir");
  const cfg = container.volumeMounts.find((m) => m.mountPath === "/etc/closewatch/closewatch.yaml");
  assert.equal(pod.spec.volumes.find((v) => v.name === cfg?.name)?.configMap?.name, configMap.metadata.name);
});

test("resources: memory request = limit (the JVM flags are sized for it: ContainerMemoryTest)", () => {
  assert.equal(container.resources.requests.memory, container.resources.limits.memory);
  assert.match(container.resources.limits.memory, /^\d+Mi$/);
});

test("closewatch.yaml of the ConfigMap passes closewatch check-config", { skip: !process.env.CLOSEWATCH_JAR && "CLOSEWATCH_JAR not set" }, () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "k8s-config-")), "closewatch.yaml");
  writeFileSync(file, configMap.data["closewatch.yaml"]);
  const out = execFileSync("java", ["-jar", process.env.CLOSEWATCH_JAR, "check-config", file], { encoding: "utf8" });
  assert.match(out, /: OK \(1 route\(s\), 0 custom code\(s\)\)/);
});
