package dev.closewatch.observe;

import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.ProxyHarness.kv;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The JSON log (config/logback-json.xml, as shipped) in the Elastic Common Schema: lines from a
 * real session over loopback, a refused upgrade and a storm summary, encoded by the shipped
 * encoder configuration, every field checked against ECS's own definitions ({@link EcsSchema}),
 * and the values checked exactly: typed, the reason escaped once.
 */
class EcsJsonLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A reason that needs escaping on the plain line and only JSON's own escaping in JSON. */
    private static final String REASON = "db \"down\"\n";

    private static EcsSchema schema;
    private static LoggerContext jsonContext;
    private static Encoder<ILoggingEvent> encoder;
    private static ProxyHarness harness;

    private final ListAppender<ILoggingEvent> backendLines = new ListAppender<>();
    private final ch.qos.logback.classic.Logger backendLog =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.closewatch.proxy.BackendHandler");

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws Exception {
        schema = EcsSchema.load(EcsJsonProvider.NAMESPACE);
        jsonContext = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(jsonContext);
        configurator.doConfigure(new File("config/logback-json.xml"));
        encoder = ((OutputStreamAppender<ILoggingEvent>) jsonContext.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
                .getAppender("STDOUT")).getEncoder();
        harness = ProxyHarness.start();
    }

    @AfterAll
    static void stop() throws Exception {
        harness.close();
        jsonContext.stop();
    }

    @BeforeEach
    void capture() {
        harness.clear();
        backendLines.start();
        backendLog.addAppender(backendLines);
    }

    @AfterEach
    void release() {
        backendLog.detachAppender(backendLines);
    }

    /** {@code line} as the shipped JSON encoder writes it: exactly one line of one JSON object. */
    private static ObjectNode json(ILoggingEvent line) throws Exception {
        String text = new String(encoder.encode(line), StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\n") && text.indexOf('\n') == text.length() - 1, text);
        return (ObjectNode) JSON.readTree(text);
    }

    @Test
    void shouldLoadTheOfficialEcsDefinitions() {
        // Then the vendored file is ECS's flat definitions, with the types the close line relies on
        assertTrue(schema.size() > 1500, "fields: " + schema.size());
        assertEquals("long", schema.type("event.duration"));
        assertEquals("ip", schema.type("client.ip"));
        assertEquals("long", schema.type("client.port"));
        assertEquals("date", schema.type("@timestamp"));
        assertEquals("keyword", schema.type("event.action"));
    }

    @Test
    void shouldWriteARealSessionsCloseLineInEcsWithTypedValuesAndTheReasonEscapedOnce() throws Exception {
        // Given an upstream that closes first with 1011 and a reason that needs escaping on a plain line
        harness.upstream.script(c -> {
            c.accept();
            c.send(true, CLOSE, Frames.closeBody(1011, REASON));
            c.readFrame();
        });
        // When the client answers the Close
        try (RawClient client = RawClient.open(harness.port(), "/chat")) {
            client.send(true, CLOSE, client.readFrame().payload());
            assertTrue(client.peerClosed());
        }
        CloseEvent event = harness.nextEvent();
        ILoggingEvent line = harness.logLine(event.sessionId());
        ObjectNode o = json(line);

        // Then every field is an ECS field of the right type, or a closewatch.* field
        assertEquals(List.of(), schema.validate(o), o.toString());
        // and the plain line keeps its keys and its escaped reason
        assertEquals("websocket.close", kv(line, "event"));
        assertEquals("1011", kv(line, "code"));
        assertEquals("db \\\"down\\\"\\n", kv(line, "reason"));
        // and the JSON line has typed values, the reason escaped once (by JSON)
        assertEquals("websocket.close", o.get("event.action").asText());
        assertEquals("event", o.get("event.kind").asText());
        assertEquals("closewatch.close", o.get("event.dataset").asText());
        assertEquals("[\"network\",\"session\"]", o.get("event.category").toString());
        assertEquals("[\"end\"]", o.get("event.type").toString());
        assertEquals("failure", o.get("event.outcome").asText());
        assertEquals("ERROR", o.get("log.level").asText());
        assertEquals("closewatch.close", o.get("log.logger").asText());
        assertEquals(EcsJsonProvider.ECS_VERSION, o.get("ecs.version").asText());
        assertEquals("closewatch", o.get("service.name").asText());
        assertTrue(o.get("closewatch.code").isInt());
        assertEquals(1011, o.get("closewatch.code").asInt());
        assertTrue(o.get("closewatch.answer_code").isInt());
        assertEquals(1011, o.get("closewatch.answer_code").asInt());
        assertEquals(REASON, o.get("closewatch.reason").asText());
        assertTrue(o.get("event.duration").isIntegralNumber());
        assertEquals(event.duration().toNanos(), o.get("event.duration").asLong());
        assertEquals("127.0.0.1", o.get("client.ip").asText());
        assertEquals("127.0.0.1", o.get("client.address").asText());
        assertEquals(event.client(), "127.0.0.1:" + o.get("client.port").asInt());
        assertEquals(event.sessionId(), o.get("closewatch.session").asText());
        assertEquals("upstream", o.get("closewatch.initiator").asText());
        assertTrue(o.get("closewatch.clean").isBoolean());
        assertEquals(event.bytesUpstreamToClient(), o.get("closewatch.bytes_u2c").asLong());
        assertFalse(o.has("event") && !o.get("event").isObject(), "no top-level string event");
        assertFalse(o.has("client") && !o.get("client").isObject(), "no top-level string client");
        // and code and reason are those of /api/closes
        JsonNode api = closesApi().get("closes").get(0);
        assertEquals(event.sessionId(), api.get("session").asText());
        assertEquals(api.get("code"), o.get("closewatch.code"));
        assertEquals(api.get("reason"), o.get("closewatch.reason"));
    }

    @Test
    void shouldLogARefusedUpgradeWithRouteClientAndStatus() throws Exception {
        // Given an upstream that refuses the upgrade with 401
        harness.upstream.script(c -> {
            c.readHead();
            c.writeAscii("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
            c.peerClosed();
        });
        // When a client asks for an upgrade
        try (RawClient client = RawClient.connect(harness.port())) {
            assertEquals(401, client.handshake("/private").status());
        }
        // Then one line says so, on the plain line and in ECS
        ILoggingEvent line = await().atMost(Duration.ofSeconds(10)).until(() -> backendLines.list.stream()
                .filter(l -> "websocket.upgrade.refused".equals(kv(l, "event"))).findFirst().orElse(null), l -> l != null);
        assertEquals("INFO", line.getLevel().toString());
        assertEquals("default", kv(line, "route"));
        assertEquals(401, kv(line, "status"));
        assertTrue(((String) kv(line, "client")).startsWith("127.0.0.1:"), String.valueOf(kv(line, "client")));
        ObjectNode o = json(line);
        assertEquals(List.of(), schema.validate(o), o.toString());
        assertEquals("websocket.upgrade.refused", o.get("event.action").asText());
        assertEquals("[\"denied\"]", o.get("event.type").toString());
        assertEquals(401, o.get("http.response.status_code").asInt());
        assertTrue(o.get("http.response.status_code").isIntegralNumber());
        assertEquals("default", o.get("closewatch.route").asText());
        assertEquals("127.0.0.1", o.get("client.ip").asText());
        assertEquals("closewatch.log", o.get("event.dataset").asText());
        assertTrue(harness.pendingEvents().isEmpty(), "no session was opened");
    }

    @Test
    void shouldWriteTheStormSummaryAndAMalformedCloseInEcs() throws Exception {
        // Given a close logger allowing one line of a burst, and sessions that end in a 1-byte Close body
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        CloseLogger logger = new CloseLogger(Level.DEBUG, new CloseLogRateLimiter(1, 1, nanos::get));
        ListAppender<ILoggingEvent> closeLines = new ListAppender<>();
        closeLines.start();
        ch.qos.logback.classic.Logger closeLog = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(CloseLogger.LOGGER);
        closeLog.addAppender(closeLines);
        try {
            CloseCatalog catalog = CloseCatalog.loadDefault();
            CloseEvent malformed = new CloseEvent("s1", "default", "[::1]:4000", "127.0.0.1:9000", CloseCatalog.MALFORMED,
                    catalog.classifyWire(CloseCatalog.MALFORMED), "", Initiator.CLIENT, false, true, Cause.CLOSE_HANDSHAKE,
                    Instant.parse("2026-01-02T03:04:05Z"), Duration.ofNanos(1_500_000_123L), null, 10, 20);
            // When three end at once and the summary is written
            for (int i = 0; i < 3; i++) {
                logger.log(malformed);
            }
            logger.flushSuppressed();
        } finally {
            closeLog.detachAppender(closeLines);
        }
        // Then the close line conforms, with no code for the malformed body, and the IPv6 client split
        assertEquals(2, closeLines.list.size());
        ObjectNode close = json(closeLines.list.get(0));
        assertEquals(List.of(), schema.validate(close), close.toString());
        assertFalse(close.has("closewatch.code"), close.toString());
        assertFalse(close.has("closewatch.answer_code"), close.toString());
        assertEquals("::1", close.get("client.ip").asText());
        assertEquals(4000, close.get("client.port").asInt());
        assertEquals(1_500_000_123L, close.get("event.duration").asLong());
        assertEquals("2026-01-02T03:04:05Z", close.get("event.start").asText());
        assertEquals("2026-01-02T03:04:06.500000123Z", close.get("event.end").asText());
        assertEquals("", close.get("closewatch.reason").asText());
        // and the summary maps its key-value pairs, typed
        ObjectNode summary = json(closeLines.list.get(1));
        assertEquals(List.of(), schema.validate(summary), summary.toString());
        assertEquals("websocket.close.suppressed", summary.get("event.action").asText());
        assertTrue(summary.get("closewatch.suppressed").isIntegralNumber());
        assertEquals(2, summary.get("closewatch.suppressed").asInt());
        assertEquals(1, summary.get("closewatch.interval_s").asInt());
    }

    @Test
    void shouldMapARejectedRequestsKeyValuePairsToEcsFields() throws Exception {
        // Given the key-value pairs of an http.request.rejected line, as FrontendHandler writes them
        ch.qos.logback.classic.Logger frontend = jsonContext.getLogger("dev.closewatch.proxy.FrontendHandler");
        ch.qos.logback.classic.spi.LoggingEvent line = new ch.qos.logback.classic.spi.LoggingEvent(
                getClass().getName(), frontend, ch.qos.logback.classic.Level.INFO, "rejected request", null, null);
        for (Object[] kv : new Object[][] {{"event", "http.request.rejected"}, {"connection", "5bb52737"},
                {"client", "[2001:db8::1]:443"}, {"status", 431}, {"reason", "header_too_large"}, {"method", "GET"},
                {"target", "/chat?x=1"}, {"detail", "head over 8192 bytes"}}) {
            line.addKeyValuePair(new org.slf4j.event.KeyValuePair((String) kv[0], kv[1]));
        }
        // When it is encoded
        ObjectNode o = json(line);
        // Then every field conforms, each where ECS puts it
        assertEquals(List.of(), schema.validate(o), o.toString());
        assertEquals("http.request.rejected", o.get("event.action").asText());
        assertEquals(431, o.get("http.response.status_code").asInt());
        assertEquals("GET", o.get("http.request.method").asText());
        assertEquals("/chat?x=1", o.get("url.original").asText());
        assertEquals("2001:db8::1", o.get("client.ip").asText());
        assertEquals(443, o.get("client.port").asInt());
        assertEquals("header_too_large", o.get("closewatch.reason").asText());
        assertEquals("head over 8192 bytes", o.get("closewatch.detail").asText());
        assertEquals("closewatch.log", o.get("event.dataset").asText());
        assertFalse(o.has("event.category"), o.toString());
    }

    @Test
    void shouldFailTheSchemaCheckOnAWrongTypeAnUnknownFieldAndTheOldShape() throws Exception {
        // Given a conforming close line
        ObjectNode good = (ObjectNode) JSON.readTree("""
                {"@timestamp":"2026-01-02T03:04:05.123Z","log.level":"WARN","message":"m","event.action":"websocket.close",
                 "event.kind":"event","event.category":["network","session"],"event.duration":1500000000,
                 "client.ip":"127.0.0.1","client.port":50123,"closewatch.code":1006}""");
        assertEquals(List.of(), schema.validate(good));
        // When fields get the wrong type, an unknown name, a value ECS does not allow, or the old string shape
        ObjectNode bad = good.deepCopy();
        bad.put("client.port", "50123");
        bad.put("event.duration", 1.5);
        bad.put("client.ip", "localhost");
        bad.put("event.kind", "websocket");
        bad.put("@timestamp", "yesterday");
        bad.put("log.level", 3);
        bad.put("code", "1006");
        bad.put("event.outcome", List.of("success").toString());
        ObjectNode old = (ObjectNode) JSON.readTree("{\"event\":\"websocket.close\",\"client\":\"127.0.0.1:50123\"}");
        ObjectNode array = (ObjectNode) JSON.readTree("{\"client.port\":[1,2]}");
        // Then each one is named
        assertEquals(List.of(
                "@timestamp: \"yesterday\" is no ECS date",
                "client.ip: \"localhost\" is no ECS ip",
                "client.port: \"50123\" is no ECS long",
                "code: not an ECS field and not under closewatch.",
                "event.duration: 1.5 is no ECS long",
                "event.kind: \"websocket\" is not one of ECS's allowed values [alert, asset, enrichment, event, metric, pipeline_error, signal, state]",
                "event.outcome: \"[success]\" is not one of ECS's allowed values [failure, success, unknown]",
                "log.level: 3 is no ECS keyword"), schema.validate(bad));
        assertEquals(List.of("client: not an ECS field and not under closewatch.", "event: not an ECS field and not under closewatch."),
                schema.validate(old));
        assertEquals(List.of("client.port: an array, but ECS does not normalize client.port to an array"), schema.validate(array));
    }

    private static JsonNode closesApi() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + harness.adminPort() + "/api/closes?limit=1")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
