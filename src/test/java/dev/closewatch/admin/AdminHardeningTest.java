package dev.closewatch.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import dev.closewatch.testing.RawSocket;
import dev.closewatch.websocket.Initiator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The admin port cannot be locked (issue 10, item 7): half-sent request heads, idle keep-alive
 * connections, a full connection table, busy workers and departed stream subscribers never keep
 * {@code /healthz} and {@code /readyz} from answering; and {@code /metrics} negotiates its format
 * and gzip. Real sockets on 127.0.0.1; probes read with a 1 s timeout.
 */
class AdminHardeningTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private static final String HALF_HEAD = "GET /metrics HTTP/1.1\r\n";

    private PrometheusMeterRegistry registry;
    private Observability observability;
    private RecentCloses recent;
    private AdminServer admin;
    private final List<RawSocket> sockets = new ArrayList<>();

    @BeforeEach
    void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        observability = new Observability(registry, new CloseLogger(Level.DEBUG));
        recent = new RecentCloses(10);
        observability.addCloseConsumer(recent);
    }

    @AfterEach
    void tearDown() throws IOException {
        for (RawSocket s : sockets) {
            s.close();
        }
        if (admin != null) {
            admin.close();
        }
        registry.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {20, 100})
    void shouldAnswerHealthProbesWhileHalfSentHeadsHoldConnections(int held) throws Exception {
        // Given the default bound (64) and connections that each sent half a request head and hold
        start(new AdminConfig("127.0.0.1:0", null, 10, 16, null, Duration.ofMinutes(1), null));
        for (int i = 0; i < held; i++) {
            connect().writeAscii(HALF_HEAD);
        }
        int expectedEvictions = Math.max(0, held - AdminConfig.DEFAULT_MAX_CONNECTIONS);
        await().atMost(Duration.ofSeconds(10)).until(() -> evicted() == expectedEvictions
                && admin.connections() == Math.min(held, AdminConfig.DEFAULT_MAX_CONNECTIONS));

        // When probes come
        Answer health = probe("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer ready = probe("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer metrics = probe("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");

        // Then they answer at once; beyond the bound the oldest half-heads were evicted, one per newcomer
        assertEquals(200, health.status());
        assertEquals("ok\n", health.body());
        assertEquals(200, ready.status());
        assertEquals("ready\n", ready.body());
        assertEquals(200, metrics.status());
        assertTrue(metrics.body().contains("# TYPE closewatch_admin_connections_closed_total counter"), metrics.body());
        if (held > AdminConfig.DEFAULT_MAX_CONNECTIONS) {
            for (int i = 0; i < expectedEvictions; i++) {
                assertTrue(sockets.get(i).peerClosed(), "held connection " + i + " evicted");
            }
            assertEquals(expectedEvictions + 3, evicted());
        } else {
            assertEquals(0, evicted());
        }
    }

    @Test
    void shouldAnswer408WhenARequestIsNotCompleteInTime() throws Exception {
        // Given a 300 ms request-head timeout
        start(new AdminConfig("127.0.0.1:0", null, 10, 16, null, Duration.ofMillis(300), Duration.ofMinutes(1)));

        // When one client sends half a head, one sends nothing, one sends a first request then half a second
        RawSocket half = connect();
        half.writeAscii(HALF_HEAD);
        RawSocket silent = connect();
        RawSocket second = connect();
        second.writeAscii("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        RawSocket.Head first = second.readHead();
        assertArrayEquals("ok\n".getBytes(StandardCharsets.US_ASCII), second.readBytes(3));
        second.writeAscii("GET /healthz HTTP/1.1\r\nHo");

        // Then the half heads get 408 and a close, the silent one a plain close
        assertEquals(200, first.status());
        for (RawSocket s : List.of(half, second)) {
            RawSocket.Head timeout = s.readHead();
            assertEquals("HTTP/1.1 408 Request Timeout", timeout.startLine());
            assertEquals("close", timeout.headers().get("connection"));
            assertEquals("request not complete within admin.request_head_timeout (300 ms)\n",
                    new String(s.readToEnd(), StandardCharsets.UTF_8));
        }
        assertEquals(0, silent.readToEnd().length);
        assertEquals(3, closed("request_head_timeout"));
    }

    @Test
    void shouldCloseAnIdleKeepAliveConnection() throws Exception {
        // Given a 300 ms keep-alive timeout and a client that made one request and kept the connection
        start(new AdminConfig("127.0.0.1:0", null, 10, 16, null, Duration.ofMinutes(1), Duration.ofMillis(300)));
        RawSocket client = connect();
        client.writeAscii("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(200, client.readHead().status());
        assertArrayEquals("ok\n".getBytes(StandardCharsets.US_ASCII), client.readBytes(3));

        // When it stays idle
        byte[] rest = client.readToEnd();

        // Then the server closed it without a word, and counted it
        assertEquals(0, rest.length);
        assertEquals(1, closed("keepalive_timeout"));
        assertEquals(0, closed("request_head_timeout"));
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.connections() == 0);
    }

    @Test
    void shouldEvictTheOldestHalfHeadAtTheBoundButNeverAStreamOrARequestAtWork() throws Exception {
        // Given max_connections 4 with max_streams 1, taken by one stream, one drain blocked at a
        // worker, and two half-sent heads
        CountDownLatch release = new CountDownLatch(1);
        start(new AdminConfig("127.0.0.1:0", null, 10, 1, 4, Duration.ofMinutes(1), Duration.ofMinutes(1)));
        admin.setDrainHook(() -> awaitQuietly(release));
        RawSocket stream = connect();
        stream.writeAscii("GET /api/closes/stream HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(200, stream.readHead().status());
        RawSocket drain = connect();
        drain.writeAscii("POST /admin/drain HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        RawSocket older = connect();
        older.writeAscii(HALF_HEAD);
        RawSocket newer = connect();
        newer.writeAscii(HALF_HEAD);
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.connections() == 4);

        // When two probes come, one after the other
        Answer health = probe("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer ready = probe("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n");

        // Then both answer; the half heads made room, oldest first; the stream and the drain stay
        assertEquals(200, health.status());
        assertEquals(200, ready.status());
        assertTrue(older.peerClosed());
        assertTrue(newer.peerClosed());
        assertEquals(2, evicted());
        assertEquals(1, admin.streamSubscribers());
        release.countDown();
        RawSocket.Head drained = drain.readHead();
        assertEquals(202, drained.status());
        assertEquals(0, closed("max_connections"));
    }

    @Test
    void shouldEvictConnectionsThatLingerAfterTheirLastAnswer() throws Exception {
        // Given max_connections 2 (no streams), both taken by clients that asked for Connection: close,
        // read the answer, and never close their side (the server lingers reading them)
        start(new AdminConfig("127.0.0.1:0", null, 10, 0, 2, Duration.ofMinutes(1), Duration.ofMinutes(1)));
        for (int i = 0; i < 2; i++) {
            RawSocket s = connect();
            s.writeAscii("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertEquals(200, s.readHead().status());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.connections() == 2);

        // When a probe comes
        Answer health = probe("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");

        // Then it gets in by evicting the oldest lingering one
        assertEquals(200, health.status());
        assertEquals(1, evicted());
        assertEquals(0, closed("max_connections"));
    }

    @Test
    void shouldAnswerHealthWhileEveryWorkerIsBusyAndRefuseMoreWork() throws Exception {
        // Given max_connections 5, max_streams 1: at most 3 requests at work; both workers blocked
        // by drain hooks that do not return, a third drain queued behind them
        CountDownLatch release = new CountDownLatch(1);
        start(new AdminConfig("127.0.0.1:0", null, 10, 1, 5, Duration.ofMinutes(1), Duration.ofMinutes(1)));
        admin.setDrainHook(() -> awaitQuietly(release));
        List<RawSocket> drains = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawSocket d = connect();
            d.writeAscii("POST /admin/drain HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
            drains.add(d);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.connections() == 3);

        // When one more request needs a worker, and probes come
        Answer busy = probe("GET /api/sessions HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer health = probe("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer ready = probe("HEAD /readyz HTTP/1.1\r\nHost: a\r\n\r\n");

        // Then the probes answer on the event loop; the extra request is refused at once, not queued
        assertEquals(200, health.status());
        assertEquals(200, ready.status());
        assertEquals("", ready.body());
        assertEquals("6", ready.head().headers().get("content-length"));
        assertEquals(503, busy.status());
        assertEquals("1", busy.head().headers().get("retry-after"));
        assertEquals("busy: 3 admin requests in progress (expected: at most admin.max_connections - admin.max_streams"
                + " - 1 = 3)\n", busy.body());
        assertEquals(1.0, registry.get(AdminMeters.REQUESTS_BUSY).counter().count());
        release.countDown();
        for (RawSocket d : drains) {
            assertEquals(202, d.readHead().status());
        }
    }

    @Test
    void shouldFreeAStreamSlotTheMomentTheSubscriberLeaves() throws Exception {
        // Given max_streams 1, taken
        start(new AdminConfig("127.0.0.1:0", null, 10, 1));
        RawSocket first = connect();
        first.writeAscii("GET /api/closes/stream HTTP/1.1\r\nHost: a\r\n\r\n");
        assertEquals(200, first.readHead().status());
        assertEquals(1, admin.streamSubscribers());

        // When the subscriber disconnects
        first.close();

        // Then its slot is free well before the next heartbeat, and a new subscriber gets in and is fed
        await().atMost(Duration.ofSeconds(2)).until(() -> admin.streamSubscribers() == 0);
        AdminHttp http = new AdminHttp(admin.address().getPort());
        try (AdminHttp.Sse second = http.stream().awaitOpen()) {
            observability.sessionListener("r").onClose(AdminServerTest.event("s-1", 1001, Initiator.UPSTREAM));
            String[] event = second.nextEvent();
            assertEquals("close", event[0]);
            assertEquals("s-1", AdminHttp.JSON.readTree(event[1]).get("session").asText());
        }
    }

    @Test
    void shouldNegotiateOpenMetricsAndGzip() throws Exception {
        // Given one session end recorded
        start(new AdminConfig("127.0.0.1:0"));
        observability.sessionListener("r").onClose(AdminServerTest.event("s-1", 1000, Initiator.CLIENT));
        String series = "closewatch_closes_total{category=\"normal\",code=\"1000\",initiator=\"client\",route=\"r\"}";

        // When Prometheus asks as it does, plainly, and with gzip
        Answer open = probe("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;version=1.0.0,"
                + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n");
        Answer plain = probe("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer gzip = probe("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
        Answer refused = probe("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0, identity\r\n\r\n");

        // Then
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", open.head().headers().get("content-type"));
        assertTrue(open.body().endsWith("# EOF\n"), open.body());
        assertTrue(open.body().contains(series + " 1.0"), open.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", plain.head().headers().get("content-type"));
        assertFalse(plain.body().contains("# EOF"));
        assertTrue(plain.body().contains(series + " 1.0"), plain.body());
        assertEquals(null, plain.head().headers().get("content-encoding"));
        assertEquals("Accept, Accept-Encoding", plain.head().headers().get("vary"));
        assertEquals("gzip", gzip.head().headers().get("content-encoding"));
        String unzipped;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip.bytes()))) {
            unzipped = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(unzipped.startsWith("# HELP "), unzipped);
        assertTrue(unzipped.contains(series + " 1.0"), unzipped);
        assertEquals(null, refused.head().headers().get("content-encoding"));
        assertTrue(refused.body().contains(series + " 1.0"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "application/openmetrics-text                                   | true",
        "application/openmetrics-text;version=1.0.0,text/plain;q=0.5    | true",
        "text/plain;version=0.0.4,application/openmetrics-text;q=0.5    | false",
        "application/openmetrics-text;q=0                               | false",
        "APPLICATION/OpenMetrics-Text; q=0.9, */*; q=0.1                | true",
        "*/*                                                            | false",
        "text/plain                                                     | false",
    })
    void shouldPreferOpenMetricsOnlyWhenAcceptRanksItHighest(String accept, boolean openMetrics) {
        assertEquals(openMetrics, AdminServer.prefersOpenMetrics(accept));
    }

    @Test
    void shouldRefuseMalformedAndOversizedRequestsAndClose() throws Exception {
        // Given
        start(new AdminConfig("127.0.0.1:0"));

        // When
        Answer longLine = probe("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer bigHead = probe("GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n");
        Answer garbage = probe("GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n");
        Answer bigBody = probe("POST /admin/drain HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n");
        Answer percent = probe("GET /api/closes?code=%zz HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer noHost = probe("GET /healthz HTTP/1.1\r\n\r\n");
        Answer twoHosts = probe("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        Answer http10 = probe("GET /healthz HTTP/1.0\r\n\r\n");

        // Then each is answered (and the malformed ones closed): 414, 431, 400, 413, 400, 400 without
        // exactly one Host on HTTP/1.1 (none needed on HTTP/1.0, which closes after the answer)
        assertEquals(414, longLine.status());
        assertEquals("request line too long (expected: at most 4096 bytes)\n", longLine.body());
        assertEquals("close", longLine.head().headers().get("connection"));
        assertEquals(431, bigHead.status());
        assertEquals(400, garbage.status());
        assertEquals("bad request: not a well-formed HTTP/1.1 request (RFC 9112)\n", garbage.body());
        assertEquals(413, bigBody.status());
        assertEquals(400, percent.status());
        assertEquals("'code=%zz': malformed percent-encoding in the query\n", percent.body());
        assertEquals(400, noHost.status());
        assertEquals("bad request: HTTP/1.1 needs exactly one Host header (RFC 9112 §3.2)\n", noHost.body());
        assertEquals(400, twoHosts.status());
        assertEquals(200, http10.status());
        assertEquals("close", http10.head().headers().get("connection"));
        assertEquals(5, closed("bad_request"));
    }

    @Test
    void shouldEscapeRequestTextInItsKeyValueLogLines() throws Exception {
        // Given the admin request log at DEBUG, captured
        Logger log = (Logger) LoggerFactory.getLogger(AdminRequestHandler.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        log.addAppender(lines);
        ch.qos.logback.classic.Level before = log.getLevel();
        log.setLevel(ch.qos.logback.classic.Level.DEBUG);
        try {
            start(new AdminConfig("127.0.0.1:0"));

            // When a header name carries terminal escapes and a bare CR
            Answer bad = probe("GET /healthz HTTP/1.1\r\nHost: a\r\nX\u001b[1A\u001b[2K\rY: z\r\n\r\n");

            // Then 400, and the line saying so is a key-value line whose request text is escaped
            assertEquals(400, bad.status());
            ILoggingEvent line = await().atMost(Duration.ofSeconds(5)).until(() -> lines.list.stream()
                    .filter(e -> "admin.bad_request".equals(kv(e, "event"))).findFirst().orElse(null), e -> e != null);
            String error = String.valueOf(kv(line, "error"));
            assertTrue(error.chars().noneMatch(c -> c < 0x20 || c == 0x7f), error);
            assertTrue(error.contains("\\u001b") || error.contains("\\r"), error);
            assertTrue(String.valueOf(kv(line, "client")).startsWith("127.0.0.1:"), line.toString());
        } finally {
            log.setLevel(before);
            log.detachAppender(lines);
        }
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrderOnOneConnection() throws Exception {
        // Given
        start(new AdminConfig("127.0.0.1:0"));
        RawSocket client = connect();

        // When three requests arrive in one write, the second a HEAD
        client.writeAscii("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

        // Then three answers in order, the HEAD without a body, then the close
        assertEquals(200, client.readHead().status());
        assertArrayEquals("ok\n".getBytes(StandardCharsets.US_ASCII), client.readBytes(3));
        RawSocket.Head head = client.readHead();
        assertEquals("3", head.headers().get("content-length"));
        RawSocket.Head last = client.readHead();
        assertEquals("close", last.headers().get("connection"));
        assertEquals("ready\n", new String(client.readToEnd(), StandardCharsets.US_ASCII));
    }

    @Test
    void shouldKeepTheTokenRulesOnHalfHeadsAndProbes() throws Exception {
        // Given a token, and 100 half heads without one
        String token = "s3cr3t-t0ken-0123456789";
        start(new AdminConfig("127.0.0.1:0", token, 10, 16, null, Duration.ofMinutes(1), null));
        for (int i = 0; i < 100; i++) {
            connect().writeAscii(HALF_HEAD);
        }

        // When
        Answer health = probe("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer metrics = probe("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
        Answer authorized = probe("GET /readyz HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + token + "\r\n\r\n");

        // Then
        assertEquals(200, health.status());
        assertEquals(401, metrics.status());
        assertEquals("Bearer realm=\"closewatch admin\"", metrics.head().headers().get("www-authenticate"));
        assertEquals(200, authorized.status());
    }

    private void start(AdminConfig config) throws IOException {
        admin = AdminServer.start(config, registry, CATALOG, observability, recent);
    }

    private RawSocket connect() throws IOException {
        RawSocket s = new RawSocket(new Socket("127.0.0.1", admin.address().getPort()));
        sockets.add(s);
        return s;
    }

    /**
     * One request on a new connection, its answer read with a 1 s socket timeout (a timeout fails
     * the test). The connection stays open (closed after the test), so it keeps its place in the
     * connection table like a real client's.
     */
    private Answer probe(String request) throws IOException {
        Socket socket = new Socket("127.0.0.1", admin.address().getPort());
        RawSocket s = new RawSocket(socket);
        sockets.add(s);
        socket.setSoTimeout(1000);
        s.writeAscii(request);
        return Answer.read(s, request.startsWith("HEAD "));
    }

    private static Object kv(ILoggingEvent e, String key) {
        if (e.getKeyValuePairs() == null) {
            return null;
        }
        return e.getKeyValuePairs().stream().filter(p -> p.key.equals(key)).map(p -> p.value).findFirst().orElse(null);
    }

    private double evicted() {
        return closed("evicted");
    }

    private double closed(String reason) {
        return registry.get(AdminMeters.CONNECTIONS_CLOSED).tag("reason", reason).counter().count();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A response read off a raw socket: head and body by {@code Content-Length}. */
    record Answer(RawSocket.Head head, byte[] bytes) {

        static Answer read(RawSocket s, boolean head) throws IOException {
            try {
                RawSocket.Head h = s.readHead();
                int length = head ? 0 : Integer.parseInt(h.headers().getOrDefault("content-length", "0"));
                return new Answer(h, s.readBytes(length));
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer within 1 s", e);
            }
        }

        int status() {
            return head.status();
        }

        String body() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }
}
