package dev.closewatch.admin;

import static dev.closewatch.admin.AdminHttp.JSON;
import static dev.closewatch.admin.AdminHttp.fieldNames;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import dev.closewatch.testing.Frames;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.SessionListener;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.event.Level;

/**
 * The admin server over real loopback HTTP, fed through {@link Observability}'s session listener
 * as the event loops would feed it: every endpoint's status, content type and exact JSON.
 */
class AdminServerTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private static final int RING = 5;
    private static final int MAX_STREAMS = 2;

    private PrometheusMeterRegistry registry;
    private Observability observability;
    private SessionListener listener;
    private RecentCloses recent;
    private AdminServer admin;
    private AdminHttp http;

    @BeforeEach
    void start() throws Exception {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        observability = new Observability(registry, new CloseLogger(Level.DEBUG));
        listener = observability.sessionListener("r");
        recent = new RecentCloses(RING);
        observability.addCloseConsumer(recent);
        admin = AdminServer.start(new AdminConfig("127.0.0.1:0", null, RING, MAX_STREAMS), registry, CATALOG,
                observability, recent);
        http = new AdminHttp(admin.address().getPort());
    }

    @AfterEach
    void stop() {
        admin.close();
        registry.close();
    }

    @Test
    void shouldServeHealthAndMetrics() throws Exception {
        // Given one session ended
        listener.onClose(event("s-1", 1000, Initiator.CLIENT));

        // When
        HttpResponse<String> health = http.get("/healthz");
        HttpResponse<String> metrics = http.get("/metrics");

        // Then
        assertEquals(200, health.statusCode());
        assertEquals("ok\n", health.body());
        assertEquals(200, metrics.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(metrics.body().contains(
                "closewatch_closes_total{category=\"normal\",code=\"1000\",initiator=\"client\",route=\"r\"} 1.0"),
                metrics.body());
    }

    @Test
    void shouldAnswer503OnceTheReadinessSupplierSaysDraining() throws Exception {
        // Given ready
        AtomicBoolean ready = new AtomicBoolean(true);
        admin.setReadiness(ready::get);
        HttpResponse<String> before = http.get("/readyz");

        // When readiness flips
        ready.set(false);
        HttpResponse<String> after = http.get("/readyz");
        admin.setReadiness(() -> {
            throw new IllegalStateException("broken check");
        });
        HttpResponse<String> failing = http.get("/readyz");

        // Then
        assertEquals(200, before.statusCode());
        assertEquals("ready\n", before.body());
        assertEquals(503, after.statusCode());
        assertEquals("draining\n", after.body());
        assertEquals(503, failing.statusCode());
    }

    @Test
    void shouldRunTheReloadHookOnPostAndAnswer200Or422() throws Exception {
        // Given no hook yet
        HttpResponse<String> none = http.send("POST", "/admin/reload");
        java.util.concurrent.atomic.AtomicBoolean valid = new java.util.concurrent.atomic.AtomicBoolean(true);
        admin.setReloadHook(() -> valid.get() ? new AdminServer.ReloadOutcome(true, "reloaded f: 1 route(s)\n")
                : new AdminServer.ReloadOutcome(false, "reload refused: f: 1 configuration error(s):\n  routes: []\n"));

        // When
        HttpResponse<String> applied = http.send("POST", "/admin/reload");
        valid.set(false);
        HttpResponse<String> refused = http.send("POST", "/admin/reload");
        HttpResponse<String> get = http.get("/admin/reload");

        // Then
        assertEquals(501, none.statusCode());
        assertEquals("reload: not available (expected: closewatch started with --config FILE)\n", none.body());
        assertEquals(200, applied.statusCode());
        assertEquals("reloaded f: 1 route(s)\n", applied.body());
        assertEquals(422, refused.statusCode());
        assertEquals("reload refused: f: 1 configuration error(s):\n  routes: []\n", refused.body());
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void shouldRunTheDrainHookOnPost() throws Exception {
        // Given no hook yet
        HttpResponse<String> none = http.send("POST", "/admin/drain");
        AtomicInteger drains = new AtomicInteger();
        admin.setDrainHook(drains::incrementAndGet);

        // When
        HttpResponse<String> drain = http.send("POST", "/admin/drain");
        HttpResponse<String> get = http.get("/admin/drain");

        // Then
        assertEquals(501, none.statusCode());
        assertEquals("drain: not available (expected: a drain hook set with CloseWatchApp.setDrainHook or "
                + "AdminServer.setDrainHook)\n", none.body());
        assertEquals(202, drain.statusCode());
        assertEquals("draining\n", drain.body());
        assertEquals(1, drains.get());
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElseThrow());
        assertEquals("method not allowed: GET (expected: POST)\n", get.body());
    }

    @Test
    void shouldListOpenSessionsWithTheirBytes() throws Exception {
        // Given two sessions, the first having relayed "hi" and its echo
        WebSocketSession first = open("aaaa0001", "127.0.0.1:50001");
        observe(first, Direction.CLIENT_TO_UPSTREAM, Frames.masked(true, Frames.TEXT, "hi".getBytes(StandardCharsets.UTF_8)));
        observe(first, Direction.UPSTREAM_TO_CLIENT, Frames.unmasked(true, Frames.TEXT, "hi".getBytes(StandardCharsets.UTF_8)));
        WebSocketSession second = open("aaaa0002", "127.0.0.1:50002");
        WebSocketSession ended = open("aaaa0003", "127.0.0.1:50003");
        ended.transportClosed(Initiator.CLIENT);
        ended.transportClosed(Initiator.UPSTREAM);

        // When
        JsonNode body = http.json("/api/sessions");
        JsonNode limited = http.json("/api/sessions?limit=1");

        // Then the open ones, oldest first, with exactly these fields
        assertEquals(List.of("count", "sessions"), fieldNames(body));
        assertEquals(2, body.get("count").asInt());
        JsonNode s = body.get("sessions").get(0);
        assertEquals(List.of("id", "route", "client", "upstream", "opened_at", "age_seconds", "bytes_c2u", "bytes_u2c"),
                fieldNames(s));
        assertEquals("aaaa0001", s.get("id").asText());
        assertEquals("r", s.get("route").asText());
        assertEquals("127.0.0.1:50001", s.get("client").asText());
        assertEquals("127.0.0.1:8080", s.get("upstream").asText());
        assertEquals(first.openedAt().toString(), s.get("opened_at").asText());
        assertTrue(s.get("age_seconds").isNumber());
        assertTrue(s.get("age_seconds").asDouble() >= 0 && s.get("age_seconds").asDouble() < 60, s.toString());
        assertEquals(8, s.get("bytes_c2u").asLong(), "2-byte header + 4-byte masking key + 2-byte payload");
        assertEquals(4, s.get("bytes_u2c").asLong());
        assertEquals("aaaa0002", body.get("sessions").get(1).get("id").asText());
        assertEquals(0, body.get("sessions").get(1).get("bytes_c2u").asLong());
        assertEquals(2, limited.get("count").asInt());
        assertEquals(1, limited.get("sessions").size());
        assertEquals(second.id(), http.json("/api/sessions").get("sessions").get(1).get("id").asText());
    }

    @Test
    void shouldListRecentClosesNewestFirstWithEveryField() throws Exception {
        // Given a session that ended with a Close frame from the upstream carrying an awkward reason
        CloseEvent event = new CloseEvent("s-1", "r", "127.0.0.1:50000", "127.0.0.1:8080", 1008, CATALOG.lookup(1008),
                "bad \"origin\"\n", Initiator.UPSTREAM, false, true, Cause.FIN, Instant.parse("2026-01-02T03:04:05Z"),
                Duration.ofMillis(1500), null, 10, 20, null, Duration.ofMillis(700), Duration.ofMillis(1200));
        listener.onClose(event);
        listener.onClose(event("s-2", 1000, Initiator.CLIENT));

        // When
        JsonNode body = http.json("/api/closes");

        // Then newest first, each with exactly these fields in this order
        assertEquals(List.of("closes"), fieldNames(body));
        assertEquals(2, body.get("closes").size());
        assertEquals("s-2", body.get("closes").get(0).get("session").asText());
        JsonNode item = body.get("closes").get(1);
        assertEquals(List.of("session", "route", "client", "upstream", "code", "name", "category", "initiator", "clean",
                "cause", "answer_code", "reason", "duration_ms", "client_idle_ms", "upstream_idle_ms", "idle_ms", "bytes_c2u",
                "bytes_u2c", "remedy", "time"), fieldNames(item));
        ObjectNode expected = JSON.createObjectNode()
                .put("session", "s-1").put("route", "r").put("client", "127.0.0.1:50000").put("upstream", "127.0.0.1:8080")
                .put("code", 1008).put("name", "Policy Violation").put("category", "policy_violation")
                .put("initiator", "upstream").put("clean", false).put("cause", "fin").putNull("answer_code").put("reason", "bad \"origin\"\n")
                .put("duration_ms", 1500)
                .put("client_idle_ms", 700).put("upstream_idle_ms", 1200).put("idle_ms", 700).put("bytes_c2u", 10).put("bytes_u2c", 20)
                .put("remedy", CATALOG.lookup(1008).remedy()).put("time", "2026-01-02T03:04:06.500Z");
        assertEquals(expected, item);
    }

    @Test
    void shouldFilterClosesExactlyAndLimitThem() throws Exception {
        // Given
        listener.onClose(event("a", 1006, Initiator.CLIENT));
        listener.onClose(event("b", 1006, Initiator.UPSTREAM));
        listener.onClose(event("c", 1000, Initiator.CLIENT));
        listener.onClose(event("d", 1006, Initiator.CLIENT));

        // When / Then
        assertEquals(List.of("d", "b", "a"), sessions(http.json("/api/closes?code=1006")));
        assertEquals(List.of("d", "a"), sessions(http.json("/api/closes?code=1006&initiator=client")));
        assertEquals(List.of("d", "c", "a"), sessions(http.json("/api/closes?initiator=client")));
        assertEquals(List.of("d"), sessions(http.json("/api/closes?code=1006&limit=1")));
        assertEquals(List.of(), sessions(http.json("/api/closes?code=100")));
        assertEquals(List.of("d", "c", "b", "a"), sessions(http.json("/api/closes?code=&initiator=&limit=")));
    }

    @Test
    void shouldKeepOnlyTheRingsCapacity() throws Exception {
        // Given more ends than the ring holds
        for (int i = 1; i <= RING + 2; i++) {
            listener.onClose(event("s-" + i, 1000, Initiator.CLIENT));
        }

        // When
        JsonNode body = http.json("/api/closes?limit=" + RING);

        // Then
        assertEquals(List.of("s-7", "s-6", "s-5", "s-4", "s-3"), sessions(body));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "limit=x            | limit: 'x' (expected: 1-5)",
        "limit=0            | limit: '0' (expected: 1-5)",
        "limit=6            | limit: '6' (expected: 1-5)",
        "code=abc           | code: 'abc' (expected: a close code 0-65535, or invalid)",
        "code=70000         | code: '70000' (expected: a close code 0-65535, or invalid)",
        "initiator=server   | initiator: 'server' (expected one of: client, upstream, proxy)",
        "since=1            | 'since': unknown query parameter (expected one of: code, initiator, limit)",
        "limit=1&limit=2    | limit: given twice (expected: at most once)",
    })
    void shouldAnswer400ToBadQueryParameters(String query, String message) throws Exception {
        // When
        HttpResponse<String> r = http.get("/api/closes?" + query);

        // Then
        assertEquals(400, r.statusCode());
        assertEquals(message + "\n", r.body());
        assertEquals("text/plain; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void shouldListTheWholeCatalog() throws Exception {
        // When
        JsonNode body = http.json("/api/codes");

        // Then every entry and range, singles with a code, ranges with their bounds
        assertEquals(List.of("entries", "ranges"), fieldNames(body));
        assertEquals(CATALOG.entries().size(), body.get("entries").size());
        assertEquals(CATALOG.ranges().size(), body.get("ranges").size());
        CloseCode abnormal = CATALOG.lookup(1006);
        JsonNode e1006 = find(body.get("entries"), "label", "1006");
        assertEquals(JSON.createObjectNode().put("code", 1006).put("label", "1006").put("name", "Abnormal Closure")
                .put("category", "abnormal").put("severity", "abnormal").put("on_wire", false)
                .put("reference", abnormal.reference()).put("description", abnormal.description())
                .put("when", abnormal.when()).put("remedy", abnormal.remedy()), e1006);
        CloseCode privateUse = CATALOG.lookup(4404);
        JsonNode r4xxx = find(body.get("ranges"), "label", "4xxx");
        assertEquals(JSON.createObjectNode().put("range", "4000-4999").put("from", 4000).put("to", 4999)
                .put("label", "4xxx").put("name", privateUse.name()).put("category", "private")
                .put("severity", privateUse.severity().label()).put("on_wire", true)
                .put("reference", privateUse.reference()).put("description", privateUse.description())
                .put("when", privateUse.when()).put("remedy", privateUse.remedy()), r4xxx);
        List<String> labels = new ArrayList<>();
        body.get("entries").forEach(n -> labels.add(n.get("label").asText()));
        assertEquals(CATALOG.entries().stream().map(CloseCode::label).toList(), labels);
    }

    @Test
    void shouldStreamEachCloseEventAsItHappens() throws Exception {
        // Given a live subscriber
        try (AdminHttp.Sse sse = http.stream().awaitOpen()) {
            // When a session ends
            WebSocketSession s = open("bbbb0001", "127.0.0.1:50010");
            s.transportClosed(Initiator.UPSTREAM);
            s.transportClosed(Initiator.CLIENT);

            // Then it arrives as an event carrying the same JSON as /api/closes
            String[] event = sse.nextEvent();
            assertEquals("close", event[0]);
            JsonNode data = JSON.readTree(event[1]);
            assertEquals(http.json("/api/closes").get("closes").get(0), data);
            assertEquals("bbbb0001", data.get("session").asText());
            assertEquals(1006, data.get("code").asInt());
            assertEquals("upstream", data.get("initiator").asText());
        }
    }

    @Test
    void shouldServeSeveralSubscribersAndRefuseOneTooMany() throws Exception {
        // Given as many subscribers as allowed
        try (AdminHttp.Sse one = http.stream().awaitOpen(); AdminHttp.Sse two = http.stream().awaitOpen()) {
            // When one more comes, and a session ends
            HttpResponse<String> three = http.get("/api/closes/stream");
            listener.onClose(event("s-1", 1011, Initiator.UPSTREAM));

            // Then it is refused, the others both get the event, and the short endpoints still answer
            assertEquals(503, three.statusCode());
            assertEquals("stream: 2 subscribers connected already (expected: at most admin.max_streams = 2)\n",
                    three.body());
            assertEquals("s-1", JSON.readTree(one.nextEvent()[1]).get("session").asText());
            assertEquals("s-1", JSON.readTree(two.nextEvent()[1]).get("session").asText());
            assertEquals(200, http.get("/healthz").statusCode());
            assertEquals(2, admin.streamSubscribers());
        }
    }

    @Test
    void shouldEndStreamsWhenTheServerCloses() throws Exception {
        // Given
        try (AdminHttp.Sse sse = http.stream().awaitOpen()) {
            // When
            admin.close();

            // Then the stream ends and no subscriber is left on the close events
            String line = sse.next();
            while (!line.equals(AdminHttp.Sse.END)) {
                line = sse.next();
            }
            assertEquals(0, admin.streamSubscribers());
        }
    }

    @Test
    void shouldAnswer404And405Plainly() throws Exception {
        // When
        HttpResponse<String> missing = http.get("/api/nothing");
        HttpResponse<String> post = http.send("POST", "/api/closes");
        HttpResponse<String> head = http.send("HEAD", "/api/closes/stream");

        // Then
        assertEquals(404, missing.statusCode());
        assertEquals("not found: /api/nothing (expected one of: /metrics, /healthz, /readyz, POST /admin/drain, "
                + "POST /admin/reload, /api/sessions, /api/closes, /api/closes/stream, /api/codes, /api/diagnosis, /api/summary, /api/reconnects, /api/top)\n",
                missing.body());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
        assertEquals(405, head.statusCode());
        assertFalse(admin.toString().contains("required"));
    }

    @Test
    void shouldNotStreamWhenStreamsAreTurnedOff() throws Exception {
        // Given admin.max_streams: 0
        try (AdminServer off = AdminServer.start(new AdminConfig("127.0.0.1:0", null, RING, 0), registry, CATALOG,
                observability, recent)) {
            // When
            HttpResponse<String> r = new AdminHttp(off.address().getPort()).get("/api/closes/stream");

            // Then
            assertEquals(503, r.statusCode());
            assertEquals("stream: 0 subscribers connected already (expected: at most admin.max_streams = 0)\n", r.body());
        }
    }

    @Test
    void shouldCountWhatASlowSubscriberMisses() throws Exception {
        // Given a stream whose subscriber queue holds 2 events, nobody reading
        CloseEventStream stream = new CloseEventStream(1, 2);
        try (CloseEventStream.Subscription s = stream.subscribe()) {
            // When 5 events arrive
            for (int i = 1; i <= 5; i++) {
                stream.accept(event("s-" + i, 1000, Initiator.CLIENT));
            }

            // Then the first 2 wait, the other 3 are counted as dropped, and a second subscriber is refused
            assertEquals(List.of("s-1", "s-2"),
                    s.poll(1, java.util.concurrent.TimeUnit.SECONDS).stream().map(CloseEvent::sessionId).toList());
            assertEquals(3, s.dropped());
            assertEquals(null, stream.subscribe());
        }
        await().atMost(Duration.ofSeconds(1)).until(() -> stream.subscribers() == 0);
        try (CloseEventStream.Subscription again = stream.subscribe()) {
            assertFalse(again == null);
        }
    }

    private WebSocketSession open(String id, String client) {
        return new WebSocketSession(id, "r", client, "127.0.0.1:8080", CATALOG, listener, System::nanoTime);
    }

    private static void observe(WebSocketSession session, Direction direction, byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            session.observer(direction).observe(buf);
        } finally {
            buf.release();
        }
    }

    private static List<String> sessions(JsonNode closes) {
        List<String> ids = new ArrayList<>();
        closes.get("closes").forEach(n -> ids.add(n.get("session").asText()));
        return ids;
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (value.equals(n.get(field).asText())) {
                return n;
            }
        }
        throw new AssertionError("no " + field + "=" + value + " in " + array);
    }

    static CloseEvent event(String session, int code, Initiator initiator) {
        return new CloseEvent(session, "r", "127.0.0.1:50000", "127.0.0.1:8080", code, CATALOG.lookup(code), "",
                initiator, true, true, Cause.CLOSE_HANDSHAKE, Instant.parse("2026-01-02T03:04:05Z"),
                Duration.ofSeconds(1), Duration.ZERO, 0, 0);
    }
}
