package dev.closewatch.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.closewatch.catalog.CloseCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link FleetMerge} and {@link TextReport} on admin answers written as the admin API writes them:
 * two instances that both see nginx's 60 s idle timeout on the client leg (one signature with both
 * instances' evidence and the culprits named once), one that also sees a 30 s lifetime cap, top
 * lists merged by value and re-ranked by the summed count.
 */
class FleetMergeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-11-30T01:00:00Z");

    private static final String NGINX = "{\"product\":\"nginx\",\"setting\":\"proxy_read_timeout\",\"default_seconds\":60.0,"
            + "\"kind\":\"idle\",\"source\":\"https://nginx.org/en/docs/http/websocket.html\"}";
    private static final String ALB = "{\"product\":\"AWS Application Load Balancer\",\"setting\":\"idle_timeout.timeout_seconds\","
            + "\"default_seconds\":60.0,\"kind\":\"idle\",\"source\":\"https://docs.aws.amazon.com/elasticloadbalancing/\"}";
    private static final String GCLB = "{\"product\":\"Google Cloud Application Load Balancer\",\"setting\":\"backend service timeout\","
            + "\"default_seconds\":30.0,\"kind\":\"lifetime\",\"source\":\"https://cloud.google.com/load-balancing/docs/backend-service\"}";

    @Test
    void shouldEscapeControlCharactersInEveryTextAnInstanceSent() {
        // Given an instance whose every text field carries a line break and a forged line
        String forged = "x\nFORGED";
        String admin = "10.0.0.1:8081";
        FleetReport r = new FleetReport(NOW.toString(), 600, 1, 1, List.of(new FleetReport.InstanceStatus(admin, true, null)), 1, 1,
                List.of(new FleetReport.CodeCount(forged, forged, forged, "abnormal", forged, forged, 1, 1, 0, 0,
                        List.of(new FleetReport.InstanceCount(admin, 1), new FleetReport.InstanceCount("10.0.0.2:8081", 0)))),
                List.of(new FleetReport.SignatureLine(forged, forged, "idle", "60", 60.0, 1, 1, forged,
                        List.of(new FleetReport.Culprit(forged, forged, 60.0, "idle", forged)),
                        List.of(new FleetReport.Evidence(admin, 60.0, 1, 1, forged, forged)))),
                List.of(new FleetReport.Storm(admin, forged, forged, 5, List.of(1L))),
                List.of(new FleetReport.ReconnectLine(forged, forged, 1, 0, 0.0, 0, 0, 0.0, "unknown")),
                600, List.of(new FleetReport.TopList(forged, forged, List.of(new FleetReport.TopEntry(forged, 1)))));

        // When it is rendered as text
        String text = TextReport.render(r);

        // Then no line starts with the forged text: each break is shown as \\u000a on its own line
        assertEquals(List.of(), text.lines().filter(l -> l.startsWith("FORGED")).toList(), text);
        assertTrue(text.contains("x\\u000aFORGED"), text);
    }

    @Test
    void shouldUniteOneSignatureSeenByTwoInstancesAndNameItsCulpritsOnce() throws Exception {
        // Given two instances with a 60 s idle signature on route chat's client leg (the first also a 30 s lifetime cap)
        AdminClient.Instance one = instance("10.0.0.1:8081",
                summary(40, code("1006", "Abnormal Closure", "abnormal", 30, 0, 30, 0), code("1000", "Normal Closure", "normal", 10, 10, 0, 0)),
                "[" + signature("chat", "client", "idle", "60", 60.2, 20, 25, NGINX + "," + ALB) + ","
                        + signature("chat", "upstream", "lifetime", "30", 30.0, 5, 5, GCLB) + "]",
                "[{\"code\":\"1006\",\"reconnects\":10,\"waited_at_least_1s\":8,\"share_waited_at_least_1s\":0.8,"
                        + "\"comparable\":6,\"grew\":5,\"share_grew\":0.833}]",
                Map.of("abnormal", Map.of("user_agent", top("[{\"value\":\"bot/1.0\",\"count\":12},{\"value\":\"app/2\",\"count\":9}]"))));
        AdminClient.Instance two = instance("10.0.0.2:8081",
                summary(21, code("1006", "Abnormal Closure", "abnormal", 21, 21, 0, 0)),
                "[" + signature("chat", "client", "idle", "60", 59.6, 10, 12, NGINX) + "]",
                "[{\"code\":\"1006\",\"reconnects\":6,\"waited_at_least_1s\":0,\"share_waited_at_least_1s\":0.0,"
                        + "\"comparable\":4,\"grew\":0,\"share_grew\":0.0}]",
                Map.of("abnormal", Map.of("user_agent", top("[{\"value\":\"app/2\",\"count\":7},{\"value\":\"curl/8\",\"count\":1}]"))));

        // When
        FleetReport r = new FleetMerge(CloseCatalog.loadDefault()).merge(List.of(
                new FleetMerge.Outcome(one.admin(), one, null), new FleetMerge.Outcome(two.admin(), two, null)),
                Duration.ofMinutes(10), 5, NOW);

        // Then counts are summed
        assertEquals(61, r.closes());
        assertEquals(51, r.closesByCode().get(0).count());
        assertEquals(21, r.closesByCode().get(0).client());
        // and the 60 s signature is one line: 30 of 37, mean weighted by count, culprits once, both instances' evidence
        assertEquals(2, r.signatures().size());
        FleetReport.SignatureLine idle = r.signatures().get(0);
        assertEquals(List.of("chat", "client", "idle", "60"), List.of(idle.route(), idle.leg(), idle.kind(), idle.bucket()));
        assertEquals(30, idle.count());
        assertEquals(37, idle.total());
        assertEquals(60.0, idle.seconds());
        assertEquals(List.of("nginx", "AWS Application Load Balancer"), idle.culprits().stream().map(FleetReport.Culprit::product).toList());
        assertEquals(List.of("10.0.0.1:8081", "10.0.0.2:8081"), idle.evidence().stream().map(FleetReport.Evidence::admin).toList());
        // and reconnects after 1006: 16, 8 waited 1 s, 5 of 10 grew: back-off "yes" at exactly half
        FleetReport.ReconnectLine reconnects = r.reconnectsByPreviousCode().get(0);
        assertEquals(List.of(16L, 8L, 10L, 5L), List.of(reconnects.reconnects(), reconnects.waitedAtLeast1s(),
                reconnects.comparable(), reconnects.grew()));
        assertEquals("yes", reconnects.backoff());
        // and the top list re-ranked by the summed count
        assertEquals(List.of("app/2:16", "bot/1.0:12", "curl/8:1"), r.topOffenders().get(0).entries().stream()
                .map(e -> e.value() + ":" + e.count()).toList());

        // and the document, culprits and evidence included, has the documented shape
        assertEquals(List.of(), schema().validate(JsonReport.render(r), InputFormat.JSON));

        // and the text says it in plain words
        List<String> lines = TextReport.render(r).lines().toList();
        assertTrue(lines.contains("  route chat, client leg: 30 of 37 abnormal ends after 60.0 s idle: an idle timeout of "
                + "about 60.0 s between the clients and closewatch"), String.join("\n", lines));
        assertTrue(lines.contains("    likely culprits: nginx proxy_read_timeout (default 60.0 s); "
                + "AWS Application Load Balancer idle_timeout.timeout_seconds (default 60.0 s)"), String.join("\n", lines));
        assertTrue(lines.contains("    remedy: remedy for chat client idle"), String.join("\n", lines));
        assertTrue(lines.contains("    seen by 10.0.0.1:8081: 20 of 25 since 2026-11-30T00:50:00Z (60.2 s)"), String.join("\n", lines));
        assertTrue(lines.contains("    seen by 10.0.0.2:8081: 10 of 12 since 2026-11-30T00:50:00Z (59.6 s)"), String.join("\n", lines));
        assertTrue(lines.contains("  route chat, upstream leg: 5 of 5 abnormal ends after 30.0 s of lifetime: a maximum "
                + "connection lifetime of about 30.0 s between closewatch and the upstream"), String.join("\n", lines));
        assertTrue(lines.contains("  after 1006 Abnormal Closure: 16 reconnects, 50 % waited at least 1 s; "
                + "delays grew in 5 of 10: clients back off"), String.join("\n", lines));
        assertTrue(lines.contains("    user_agent app/2 (16), bot/1.0 (12), curl/8 (1)"), String.join("\n", lines));
    }

    @Test
    void shouldRejectADocumentThatLeavesTheSchema() throws Exception {
        // Given a valid report document
        AdminClient.Instance one = instance("10.0.0.1:8081", summary(0), "[]", "[]", Map.of());
        FleetReport r = new FleetMerge(CloseCatalog.loadDefault()).merge(List.of(new FleetMerge.Outcome(one.admin(), one, null),
                new FleetMerge.Outcome("10.0.0.9:8081", null, "http://10.0.0.9:8081/api/summary?window=600s: refused")),
                Duration.ofMinutes(10), 5, NOW);
        Schema schema = schema();
        String valid = JsonReport.render(r);
        assertEquals(List.of(), schema.validate(valid, InputFormat.JSON));

        // When a field is added and another loses its type
        ObjectNode changed = (ObjectNode) JSON.readTree(valid);
        changed.put("surprise", 1);
        changed.put("closes", "none");

        // Then the validator names both
        assertEquals(2, schema.validate(changed.toString(), InputFormat.JSON).size(),
                schema.validate(changed.toString(), InputFormat.JSON).toString());
    }

    private static Schema schema() throws Exception {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(Path.of("docs/report.schema.json")), InputFormat.JSON);
    }

    private static AdminClient.Instance instance(String admin, String summary, String signatures, String byPreviousCode,
                                                 Map<String, Map<String, JsonNode>> top) throws Exception {
        return new AdminClient.Instance(admin, JSON.readTree(summary),
                JSON.readTree("{\"window_seconds\":600,\"signatures\":" + signatures + ",\"storms\":[]}"),
                JSON.readTree("{\"storms\":[],\"by_previous_code\":" + byPreviousCode + "}"), new LinkedHashMap<>(top));
    }

    private static String summary(long closes, String... codes) {
        return "{\"window_seconds\":600,\"until\":\"2026-11-30T01:00:00Z\",\"open_sessions\":0,\"closes\":" + closes
                + ",\"by_code\":[" + String.join(",", codes) + "]}";
    }

    private static String code(String code, String name, String category, long count, long client, long upstream, long proxy) {
        return "{\"code\":\"" + code + "\",\"name\":\"" + name + "\",\"category\":\"" + category
                + "\",\"severity\":\"abnormal\",\"description\":\"d\",\"remedy\":\"r\",\"count\":" + count + ",\"client\":" + client
                + ",\"upstream\":" + upstream + ",\"proxy\":" + proxy + "}";
    }

    private static String signature(String route, String leg, String kind, String bucket, double seconds, int count, int total,
                                     String culprits) {
        return "{\"route\":\"" + route + "\",\"leg\":\"" + leg + "\",\"kind\":\"" + kind + "\",\"seconds\":" + seconds
                + ",\"bucket\":\"" + bucket + "\",\"count\":" + count + ",\"total\":" + total
                + ",\"since\":\"2026-11-30T00:50:00Z\",\"detected_at\":\"2026-11-30T00:51:00Z\",\"text\":\"t\","
                + "\"remedy\":\"remedy for " + route + " " + leg + " " + kind + "\",\"culprits\":[" + culprits + "]}";
    }

    private static JsonNode top(String entries) throws Exception {
        return JSON.readTree("{\"top\":" + entries + "}");
    }
}
