package dev.closewatch.observe.otlp;

import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.config.OtlpConfig;
import dev.closewatch.observe.BuildInfo;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.websocket.CloseEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * OTLP export end to end: closewatch over loopback in front of a raw upstream, exporting to an
 * OTLP/HTTP receiver in this test ({@link OtlpReceiver}) that decodes with the official
 * {@code opentelemetry-proto} classes; the exact log records of known session ends, the
 * {@code closewatch.closes} sum with its data points, and a collector that is down or stuck.
 */
class OtlpExportTest {

    private static final String TOKEN = "Bearer otlp-test-token";
    private static final String USER_AGENT = "otlp-test/1.0";

    private OtlpReceiver receiver;
    private ProxyHarness harness;

    @AfterEach
    void stop() throws Exception {
        if (harness != null) {
            harness.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    private ProxyHarness start(UnaryOperator<OtlpConfig> otlp) throws Exception {
        OtlpConfig base = new OtlpConfig(Map.of("Authorization", TOKEN), Map.of("deployment.environment.name", "test"),
                Duration.ofSeconds(2), null, null);
        harness = ProxyHarness.start(c -> c.withOtlp(otlp.apply(base)));
        return harness;
    }

    /** Opens a session on {@code path} with a {@code User-Agent} (and RawClient's usual {@code Origin}). */
    private RawClient open(String path) throws Exception {
        RawClient client = RawClient.connect(harness.port());
        client.writeAscii("GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "Origin: http://127.0.0.1\r\n"
                + "User-Agent: " + USER_AGENT + "\r\n"
                + "\r\n");
        assertEquals(101, client.readHead().status());
        return client;
    }

    /** The client closes with 1000 "bye"; the (echoing) upstream answers with the same Close. */
    private CloseEvent clientCloses1000() throws Exception {
        harness.upstream.script(c -> c.echoUntilClose());
        try (RawClient client = open("/chat?room=1")) {
            client.send(true, CLOSE, Frames.closeBody(1000, "bye"));
            assertEquals(1000, client.readFrame().closeCode());
            assertTrue(client.peerClosed());
        }
        return harness.nextEvent();
    }

    /** The upstream closes with 1011 "db down"; the client answers with the same Close. */
    private CloseEvent upstreamCloses1011() throws Exception {
        harness.upstream.script(c -> {
            c.accept();
            c.send(true, CLOSE, Frames.closeBody(1011, "db down"));
            c.readFrame();
        });
        try (RawClient client = open("/feed")) {
            client.send(true, CLOSE, client.readFrame().payload());
            assertTrue(client.peerClosed());
        }
        return harness.nextEvent();
    }

    /** The client's TCP goes with no Close frame: 1006. */
    private CloseEvent clientDrops() throws Exception {
        harness.upstream.script(c -> {
            c.accept();
            c.readToEnd();
        });
        try (RawClient client = open("/chat")) {
            client.shutdownOutput();
            assertTrue(client.peerClosed());
        }
        return harness.nextEvent();
    }

    /** A record's attributes as plain values: String, Long, Double, Boolean or a List of them. */
    private static Map<String, Object> attributes(List<KeyValue> kvs) {
        Map<String, Object> map = new TreeMap<>();
        kvs.forEach(kv -> map.put(kv.getKey(), value(kv.getValue())));
        return map;
    }

    private static Object value(AnyValue v) {
        return switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INT_VALUE -> v.getIntValue();
            case DOUBLE_VALUE -> v.getDoubleValue();
            case BOOL_VALUE -> v.getBoolValue();
            case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(OtlpExportTest::value).toList();
            default -> "unexpected " + v.getValueCase();
        };
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** The attributes every session end has, with this event's values. */
    private Map<String, Object> common(CloseEvent e, int clientPort, String path) {
        Map<String, Object> m = new TreeMap<>();
        m.put("client.address", "127.0.0.1");
        m.put("client.port", (long) clientPort);
        m.put("url.path", path);
        m.put("user_agent.original", USER_AGENT);
        m.put("http.request.header.origin", List.of("http://127.0.0.1"));
        m.put("websocket.close.clean", e.clean());
        m.put("websocket.close.initiator", e.initiator().label());
        m.put("closewatch.session.id", e.sessionId());
        m.put("closewatch.route", "default");
        m.put("closewatch.upstream.address", "127.0.0.1:" + harness.upstream.port());
        m.put("closewatch.close.name", e.classification().name());
        m.put("closewatch.close.category", e.classification().category().label());
        m.put("closewatch.close.severity", e.classification().severity().label());
        m.put("closewatch.close.cause", e.cause().label());
        m.put("closewatch.close.remedy", e.classification().remedy());
        m.put("closewatch.session.duration", seconds(e.duration()));
        m.put("closewatch.client.idle", seconds(e.clientIdle()));
        m.put("closewatch.upstream.idle", seconds(e.upstreamIdle()));
        m.put("closewatch.bytes.client_to_upstream", e.bytesClientToUpstream());
        m.put("closewatch.bytes.upstream_to_client", e.bytesUpstreamToClient());
        return m;
    }

    @Test
    void shouldExportEachSessionEndAsOneLogRecordWithItsCodeInitiatorAndAttributes() throws Exception {
        // Given closewatch exporting close events to an OTLP/HTTP receiver
        receiver = new OtlpReceiver();
        start(o -> o.withLogs(receiver.url("/v1/logs"), Duration.ofMillis(50)));

        // When three sessions end: a client's 1000, an upstream's 1011, a client's dropped TCP (1006)
        CloseEvent normal = clientCloses1000();
        CloseEvent internal = upstreamCloses1011();
        CloseEvent dropped = clientDrops();

        // Then the receiver gets exactly three records, one per session
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.logRecords().size() >= 3);
        Map<String, LogRecord> bySession = receiver.logRecords().stream().collect(Collectors.toMap(
                r -> (String) attributes(r.getAttributesList()).get("closewatch.session.id"), r -> r));
        assertEquals(3, bySession.size());
        assertEquals(List.of(), receiver.errors());
        assertTrue(receiver.authorizations().stream().allMatch(TOKEN::equals), receiver.authorizations().toString());
        assertTrue(!receiver.authorizations().isEmpty());

        // and the 1000: DEBUG (log.normal_level), the close line's message as body, no error.type
        LogRecord r = bySession.get(normal.sessionId());
        assertEquals(CloseLogger.EVENT_CLOSE, r.getEventName());
        assertEquals(SeverityNumber.SEVERITY_NUMBER_DEBUG, r.getSeverityNumber());
        assertEquals("DEBUG", r.getSeverityText());
        assertEquals("WebSocket session " + normal.sessionId() + " ended: 1000 Normal Closure", r.getBody().getStringValue());
        long end = TimeUnit.SECONDS.toNanos(normal.openedAt().getEpochSecond()) + normal.openedAt().getNano()
                + normal.duration().toNanos();
        assertEquals(end, r.getTimeUnixNano());
        assertTrue(r.getObservedTimeUnixNano() >= end);
        Map<String, Object> expected = common(normal, clientPort(normal), "/chat");
        expected.put("websocket.close.code", 1000L);
        expected.put("websocket.close.reason", "bye");
        expected.put("websocket.close.answer_code", 1000L);
        expected.put("closewatch.close_handshake.duration", seconds(normal.closeHandshakeDuration()));
        assertEquals(expected, attributes(r.getAttributesList()));
        assertEquals("client", expected.get("websocket.close.initiator"));
        assertEquals(true, expected.get("websocket.close.clean"));
        assertEquals("normal", expected.get("closewatch.close.category"));

        // and the 1011: ERROR, initiated by the upstream, error.type its category
        r = bySession.get(internal.sessionId());
        assertEquals(SeverityNumber.SEVERITY_NUMBER_ERROR, r.getSeverityNumber());
        assertEquals("ERROR", r.getSeverityText());
        expected = common(internal, clientPort(internal), "/feed");
        expected.put("websocket.close.code", 1011L);
        expected.put("websocket.close.reason", "db down");
        expected.put("websocket.close.answer_code", 1011L);
        expected.put("closewatch.close_handshake.duration", seconds(internal.closeHandshakeDuration()));
        expected.put("error.type", "internal_error");
        assertEquals(expected, attributes(r.getAttributesList()));
        assertEquals("upstream", expected.get("websocket.close.initiator"));
        assertEquals("Internal Error", expected.get("closewatch.close.name"));

        // and the 1006: WARN, the client's TCP went first, no reason, no answer, not clean
        r = bySession.get(dropped.sessionId());
        assertEquals(SeverityNumber.SEVERITY_NUMBER_WARN, r.getSeverityNumber());
        expected = common(dropped, clientPort(dropped), "/chat");
        expected.put("websocket.close.code", 1006L);
        expected.put("error.type", "abnormal");
        assertEquals(expected, attributes(r.getAttributesList()));
        assertEquals(List.of("client", false, "fin"), List.of(expected.get("websocket.close.initiator"),
                expected.get("websocket.close.clean"), expected.get("closewatch.close.cause")));

        // and the resource names the service, and the scope the close logger
        ResourceLogs resource = receiver.logRequests().get(0).getResourceLogs(0);
        Map<String, Object> res = attributes(resource.getResource().getAttributesList());
        assertEquals("closewatch", res.get("service.name"));
        assertEquals(BuildInfo.current().version(), res.get("service.version"));
        assertEquals("test", res.get("deployment.environment.name"));
        assertTrue(((String) res.get("service.instance.id")).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"),
                String.valueOf(res.get("service.instance.id")));
        assertEquals(CloseLogger.LOGGER, resource.getScopeLogs(0).getScope().getName());
        // and the export counted what the collector accepted, nothing dropped
        await().atMost(Duration.ofSeconds(5)).until(() -> harness.count(OtlpMeters.LOG_RECORDS_EXPORTED) == 3.0);
        assertEquals(0.0, harness.count(OtlpMeters.LOG_RECORDS_DROPPED));
        assertEquals(0.0, harness.count(OtlpMeters.EXPORT_FAILURES));
    }

    /** The client port of {@code e}'s {@code client} field ({@code 127.0.0.1:PORT}). */
    private static int clientPort(CloseEvent e) {
        assertTrue(e.client().startsWith("127.0.0.1:"), e.client());
        return Integer.parseInt(e.client().substring("127.0.0.1:".length()));
    }

    @Test
    void shouldPushClosesTotalAsAnOtlpCumulativeSumWithOneDataPointPerLabelSet() throws Exception {
        // Given closewatch pushing its meters every second to an OTLP/HTTP receiver
        receiver = new OtlpReceiver();
        start(o -> o.withMetrics(receiver.url("/v1/metrics"), Duration.ofSeconds(1)));

        // When two sessions end with the client's 1000 and one with the upstream's 1011
        clientCloses1000();
        clientCloses1000();
        upstreamCloses1011();

        // Then closewatch.closes arrives as a monotonic cumulative sum with exactly these points
        Map<Map<String, Object>, Double> expected = new HashMap<>();
        expected.put(Map.of("route", "default", "code", "1000", "category", "normal", "initiator", "client"), 2.0);
        expected.put(Map.of("route", "default", "code", "1011", "category", "internal_error", "initiator", "upstream"), 1.0);
        await().atMost(Duration.ofSeconds(15)).until(() -> expected.equals(points(receiver.latest(MeterNames.CLOSES))));
        Metric closes = receiver.latest(MeterNames.CLOSES).get(0);
        assertTrue(closes.hasSum(), closes.toString());
        assertTrue(closes.getSum().getIsMonotonic());
        assertEquals(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, closes.getSum().getAggregationTemporality());
        // and the points are the Prometheus counters' values
        assertEquals(2.0, harness.count(MeterNames.CLOSES, "code", "1000", "initiator", "client"));
        assertEquals(1.0, harness.count(MeterNames.CLOSES, "code", "1011", "initiator", "upstream"));
        // and the other meter kinds arrive as docs/opentelemetry.md says: a gauge, a histogram in seconds
        assertTrue(receiver.latest(MeterNames.SESSIONS_ACTIVE).get(0).hasGauge());
        Metric duration = receiver.latest(MeterNames.SESSION_DURATION).get(0);
        assertTrue(duration.hasHistogram(), duration.toString());
        assertEquals("seconds", duration.getUnit());
        // and the JVM binders and the resource came along, over proper OTLP/HTTP requests
        assertTrue(!receiver.latest("jvm.memory.used").isEmpty());
        Map<String, Object> res = attributes(receiver.metricRequests().get(0).getResourceMetrics(0).getResource().getAttributesList());
        assertEquals("closewatch", res.get("service.name"));
        assertEquals("test", res.get("deployment.environment.name"));
        assertEquals(List.of(), receiver.errors());
        assertTrue(receiver.authorizations().stream().allMatch(TOKEN::equals));
    }

    /** Each data point's attributes and value. */
    private static Map<Map<String, Object>, Double> points(List<Metric> metrics) {
        Map<Map<String, Object>, Double> points = new HashMap<>();
        for (Metric m : metrics) {
            for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                points.put(new HashMap<>(attributes(p.getAttributesList())),
                        p.hasAsDouble() ? p.getAsDouble() : (double) p.getAsInt());
            }
        }
        return points;
    }

    @Test
    void shouldCountFailedExportsWarnOnceAndKeepRelayingWhenTheCollectorIsDown() throws Exception {
        // Given a collector address where nothing listens (connection refused)
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        Logger failureLog = (Logger) LoggerFactory.getLogger(ExportFailureLog.class);
        warnings.start();
        failureLog.addAppender(warnings);
        try {
            String down = "http://127.0.0.1:" + closed;
            start(o -> o.withMetrics(down + "/v1/metrics", Duration.ofSeconds(1))
                    .withLogs(down + "/v1/logs", Duration.ofMillis(50)));

            // When a session ends and its record cannot be sent, and the meters cannot be pushed
            clientCloses1000();
            await().atMost(Duration.ofSeconds(30)).until(() -> harness.count(OtlpMeters.EXPORT_FAILURES, "signal", "logs") >= 1.0
                    && harness.count(OtlpMeters.EXPORT_FAILURES, "signal", "metrics") >= 2.0);

            // Then the proxy still relays frames byte for byte
            harness.upstream.script(c -> c.echoUntilClose());
            try (RawClient client = RawClient.open(harness.port(), "/chat")) {
                byte[] hello = "still here".getBytes(StandardCharsets.UTF_8);
                client.send(true, TEXT, hello);
                assertArrayEquals(hello, client.readFrame().payload());
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                assertEquals(1000, client.readFrame().closeCode());
            }
            assertEquals(1000, harness.nextEvent().code());
            // and the failures were one WARN line per signal (the next one a minute later at the earliest)
            List<String> lines = warnings.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(2, lines.size(), lines.toString());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("OTLP export of logs to " + down + "/v1/logs failed: ")), lines.toString());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("OTLP export of metrics to " + down + "/v1/metrics failed: ")), lines.toString());
            assertTrue(lines.stream().allMatch(l -> l.contains("ConnectException")), lines.toString());
            assertEquals(0.0, harness.count(OtlpMeters.LOG_RECORDS_EXPORTED));
        } finally {
            failureLog.detachAppender(warnings);
        }
    }

    @Test
    void shouldWarnOncePerMinuteWithItsKeysAndSayOnceWhenExportsWorkAgain() {
        // Given the failure log of the logs signal, on a clock the test moves
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Counter failures = registry.counter("failures");
        AtomicLong now = new AtomicLong(1_000);
        ExportFailureLog log = new ExportFailureLog(Signal.LOGS, "http://127.0.0.1:1/v1/logs", failures, now::get);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(ExportFailureLog.class);
        lines.start();
        logger.addAppender(lines);
        try {
            // When three exports fail within a minute, a fourth a minute after the first line, then one succeeds twice
            log.failed(new java.net.ConnectException("Connection refused"));
            now.addAndGet(ExportFailureLog.INTERVAL_NANOS - 1);
            log.failed(null);
            log.failed(null);
            now.addAndGet(1);
            log.failed(null);
            log.succeeded();
            log.succeeded();

            // Then every failure is counted, and there are two WARN lines (the second counting three
            // failures) and one INFO line, each with its event, signal and endpoint
            assertEquals(4.0, failures.count());
            assertEquals(List.of(
                    "WARN {event=otlp.export.failed, signal=logs, endpoint=http://127.0.0.1:1/v1/logs, failures=1}",
                    "WARN {event=otlp.export.failed, signal=logs, endpoint=http://127.0.0.1:1/v1/logs, failures=3}",
                    "INFO {event=otlp.export.recovered, signal=logs, endpoint=http://127.0.0.1:1/v1/logs}"),
                    lines.list.stream().map(e -> e.getLevel() + " " + e.getKeyValuePairs().stream()
                            .collect(Collectors.toMap(kv -> kv.key, kv -> String.valueOf(kv.value), (x, y) -> x,
                                    LinkedHashMap::new))).toList());
            assertTrue(lines.list.get(0).getFormattedMessage().startsWith("OTLP export of logs to http://127.0.0.1:1/v1/logs"
                    + " failed: java.net.ConnectException: Connection refused (1 failed export(s) since the last such line;"),
                    lines.list.get(0).getFormattedMessage());
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test
    void shouldDropAndCountSessionEndsThatFindTheQueueFull() throws Exception {
        // Given a collector that holds its first request, and a queue of one record
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        receiver = new OtlpReceiver(() -> {
            holding.countDown();
            release.await(20, TimeUnit.SECONDS);
        });
        // (a timeout long enough that the held request does not time out and get retried)
        start(o -> new OtlpConfig(o.headers(), o.resourceAttributes(), Duration.ofSeconds(30), null,
                new OtlpConfig.Logs(true, receiver.url("/v1/logs"), 1, 1, Duration.ofMillis(10))));

        // When one session end is being sent, a second waits in the queue and a third comes
        clientCloses1000();
        assertTrue(holding.await(10, TimeUnit.SECONDS));
        clientCloses1000();
        clientCloses1000();

        // Then the third is dropped and counted (the export consumer runs just after the close
        // consumer nextEvent() waits on), and the proxy is not held up
        await().atMost(Duration.ofSeconds(5)).until(() -> harness.count(OtlpMeters.LOG_RECORDS_DROPPED) == 1.0);
        // and once the collector answers, the two others arrive
        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.count(OtlpMeters.LOG_RECORDS_EXPORTED) == 2.0);
        assertEquals(2, receiver.logRecords().size());
        assertEquals(1.0, harness.count(OtlpMeters.LOG_RECORDS_DROPPED));
    }
}
