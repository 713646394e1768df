package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.BINARY;
import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.CONTINUATION;
import static dev.closewatch.testing.Frames.PING;
import static dev.closewatch.testing.Frames.TEXT;
import static dev.closewatch.testing.ProxyHarness.kv;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawSocket.Head;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * closewatch end to end over real loopback sockets: a raw client (exact bytes) → the proxy → a
 * raw upstream (exact bytes). Every test asserts the close event, the exact metric deltas, the
 * close log line, and that the bytes crossed unchanged.
 */
class ProxyEndToEndTest {

    private static ProxyHarness harness;

    @BeforeAll
    static void startProxy() throws Exception {
        harness = ProxyHarness.start();
    }

    @AfterAll
    static void stopProxy() throws Exception {
        harness.close();
    }

    @BeforeEach
    void reset() {
        harness.clear();
        harness.upstream.connections().clear();
        harness.upstream.errors().clear();
        harness.upstream.script(RawUpstream.Connection::echoUntilClose);
    }

    private static double closes(String code, String category, String initiator) {
        return harness.count("closewatch.closes", "route", "default", "code", code, "category", category,
                "initiator", initiator);
    }

    private static double violations(String direction, String violation) {
        return harness.count("closewatch.protocol.violations", "route", "default", "direction", direction,
                "violation", violation);
    }

    private static RawUpstream.Connection onlyUpstreamConnection() {
        await().atMost(Duration.ofSeconds(10)).until(() -> harness.upstream.connections().size() == 1);
        return harness.upstream.connections().peek();
    }

    /** code, metric label, category, whether sending it is a protocol violation, log level. */
    @ParameterizedTest(name = "client closes with {0}")
    @CsvSource({
        "1000, 1000, normal, false, DEBUG",
        "1001, 1001, going_away, false, DEBUG",
        "1002, 1002, protocol_error, false, INFO",
        "1003, 1003, unsupported_data, false, INFO",
        "1004, invalid, invalid, true, INFO",
        "1005, invalid, invalid, true, INFO",
        "1006, invalid, invalid, true, INFO",
        "1007, 1007, invalid_payload, false, INFO",
        "1008, 1008, policy_violation, false, INFO",
        "1009, 1009, message_too_big, false, INFO",
        "1010, 1010, mandatory_extension, false, INFO",
        "1011, 1011, internal_error, false, ERROR",
        "1012, 1012, service_restart, false, DEBUG",
        "1013, 1013, try_again_later, false, WARN",
        "1014, 1014, bad_gateway, false, ERROR",
        "1015, invalid, invalid, true, INFO",
        "3000, 3000, registered, false, INFO",
        "3003, 3003, registered, false, INFO",
        "3008, 3008, registered, false, WARN",
    })
    void shouldRecordEveryCatalogCodeSentByTheClient(int code, String label, String category, boolean violation,
                                                     String level) throws Exception {
        // Given
        double before = closes(label, category, "client");
        double violationsBefore = violations("client_to_upstream", "invalid_close_code");
        byte[] sent;
        WsFrame answer;
        // When the client sends a Close with the code and the upstream answers it
        try (RawClient client = RawClient.open(harness.port(), "/chat")) {
            assertEquals(101, client.response().status());
            sent = client.send(true, CLOSE, Frames.closeBody(code, "bye " + code));
            answer = client.readFrame();
            assertTrue(client.peerClosed(), "proxy closes the client connection after the upstream's close");
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(code, event.code());
        assertEquals(label, event.classification().label());
        assertEquals(category, event.classification().category().label());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertTrue(event.clean());
        assertEquals(Cause.CLOSE_HANDSHAKE, event.cause());
        assertEquals("bye " + code, event.reason());
        assertEquals(before + 1, closes(label, category, "client"));
        assertEquals(violationsBefore + (violation ? 1 : 0), violations("client_to_upstream", "invalid_close_code"));
        RawUpstream.Connection upstream = onlyUpstreamConnection();
        assertArrayEquals(sent, upstream.framesRead().get(0).raw(), "Close frame relayed byte for byte");
        assertEquals(code, answer.closeCode());
        assertEquals(sent.length, event.bytesClientToUpstream());
        assertEquals(answer.raw().length, event.bytesUpstreamToClient());
        ILoggingEvent line = harness.logLine(event.sessionId());
        assertEquals(Level.valueOf(level), line.getLevel());
        assertEquals("websocket.close", kv(line, "event"));
        assertEquals(String.valueOf(code), kv(line, "code"));
        assertEquals(category, kv(line, "category"));
        assertEquals("client", kv(line, "initiator"));
        assertEquals(true, kv(line, "clean"));
        assertEquals(event.classification().remedy(), kv(line, "remedy"));
    }

    @ParameterizedTest(name = "upstream closes with {0}")
    @CsvSource({
        "1000, 1000, normal", "1001, 1001, going_away", "1002, 1002, protocol_error",
        "1003, 1003, unsupported_data", "1004, invalid, invalid", "1005, invalid, invalid",
        "1006, invalid, invalid", "1007, 1007, invalid_payload", "1008, 1008, policy_violation",
        "1009, 1009, message_too_big", "1010, 1010, mandatory_extension", "1011, 1011, internal_error",
        "1012, 1012, service_restart", "1013, 1013, try_again_later", "1014, 1014, bad_gateway",
        "1015, invalid, invalid", "3000, 3000, registered", "3003, 3003, registered", "3008, 3008, registered",
    })
    void shouldRecordEveryCatalogCodeSentByTheUpstream(int code, String label, String category) throws Exception {
        // Given an upstream that closes first with the code
        harness.upstream.script(c -> {
            c.accept();
            c.send(true, CLOSE, Frames.closeBody(code, "server " + code));
            c.readFrame();
        });
        double before = closes(label, category, "upstream");
        // When the client answers the Close
        try (RawClient client = RawClient.open(harness.port(), "/chat")) {
            WsFrame close = client.readFrame();
            assertEquals(code, close.closeCode());
            assertArrayEquals(Frames.unmasked(true, CLOSE, Frames.closeBody(code, "server " + code)), close.raw());
            client.send(true, CLOSE, close.payload());
            assertTrue(client.peerClosed());
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(code, event.code());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertTrue(event.clean());
        assertEquals(before + 1, closes(label, category, "upstream"));
        assertEquals("upstream", kv(harness.logLine(event.sessionId()), "initiator"));
    }

    @Test
    void shouldReportEmptyCloseAsNoStatusReceived() throws Exception {
        // Given
        double before = closes("1005", "no_status", "client");
        double violationsBefore = violations("client_to_upstream", "invalid_close_code");
        // When the client sends a Close frame with no body
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            client.send(true, CLOSE, new byte[0]);
            assertEquals(0, client.readFrame().payload().length);
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(1005, event.code());
        assertEquals("no_status", event.classification().category().label());
        assertTrue(event.clean());
        assertEquals(before + 1, closes("1005", "no_status", "client"));
        assertEquals(violationsBefore, violations("client_to_upstream", "invalid_close_code"), "an empty Close is legal");
    }

    @Test
    void shouldSynthesize1006WhenTheClientDropsTcp() throws Exception {
        // Given
        double before = closes("1006", "abnormal", "client");
        // When the client closes its TCP connection without a Close frame
        RawClient client = RawClient.open(harness.port(), "/");
        client.send(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
        client.readFrame();
        client.close();
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(1006, event.code());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertEquals(Cause.FIN, event.cause());
        assertFalse(event.clean());
        assertFalse(event.closeFrameSeen());
        assertEquals(before + 1, closes("1006", "abnormal", "client"));
        ILoggingEvent line = harness.logLine(event.sessionId());
        assertEquals(Level.WARN, line.getLevel());
        assertEquals("fin", kv(line, "cause"));
    }

    @Test
    void shouldSynthesize1006WithResetCauseWhenTheClientResetsTcp() throws Exception {
        // Given
        double before = closes("1006", "abnormal", "client");
        // When the client resets its connection
        RawClient client = RawClient.open(harness.port(), "/");
        client.send(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
        client.readFrame();
        client.reset();
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(1006, event.code());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertEquals(Cause.RESET, event.cause());
        assertEquals(before + 1, closes("1006", "abnormal", "client"));
    }

    @Test
    void shouldSynthesize1006WhenTheUpstreamDropsTcp() throws Exception {
        // Given an upstream that drops the connection after one message
        harness.upstream.script(c -> {
            c.accept();
            WsFrame f = c.readFrame();
            c.send(true, f.opcode(), f.payload());
        });
        double before = closes("1006", "abnormal", "upstream");
        // When
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            client.send(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
            assertEquals("hi", new String(client.readFrame().payload(), StandardCharsets.UTF_8));
            assertTrue(client.peerClosed(), "the proxy passes the drop on to the client");
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(1006, event.code());
        assertEquals(Initiator.UPSTREAM, event.initiator());
        assertEquals(Cause.FIN, event.cause());
        assertEquals(before + 1, closes("1006", "abnormal", "upstream"));
    }

    @Test
    void shouldRecordAnUnansweredCloseAsNotClean() throws Exception {
        // Given an upstream that reads the Close and hangs up without answering
        harness.upstream.script(c -> {
            c.accept();
            c.readFrame();
        });
        double before = closes("1001", "going_away", "client");
        double incompleteBefore = harness.count("closewatch.close.handshakes.incomplete", "route", "default",
                "initiator", "client");
        // When
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            client.send(true, CLOSE, Frames.closeBody(1001, "tab closed"));
            assertTrue(client.peerClosed());
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(1001, event.code());
        assertEquals(Initiator.CLIENT, event.initiator());
        assertFalse(event.clean());
        assertTrue(event.closeFrameSeen());
        assertNull(event.closeHandshakeDuration());
        assertEquals(before + 1, closes("1001", "going_away", "client"));
        assertEquals(incompleteBefore + 1, harness.count("closewatch.close.handshakes.incomplete", "route", "default",
                "initiator", "client"));
        assertEquals(false, kv(harness.logLine(event.sessionId()), "clean"));
    }

    @ParameterizedTest(name = "invalid code {0} on the wire")
    @ValueSource(ints = {999, 1004, 1005, 1016, 2999, 5000, -1})
    void shouldRelayInvalidCloseCodesUnchangedAndCountThem(int code) throws Exception {
        // Given (-1 stands for a Close body of 1 byte)
        byte[] body = code < 0 ? new byte[] {0x03} : Frames.closeBody(code, "odd");
        String violation = code < 0 ? "invalid_close_payload_length" : "invalid_close_code";
        double before = closes("invalid", "invalid", "client");
        double violationsBefore = violations("client_to_upstream", violation);
        double answerViolationsBefore = violations("upstream_to_client", violation);
        byte[] sent;
        // When
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            sent = client.send(true, CLOSE, body);
            WsFrame echoed = client.readFrame();
            assertArrayEquals(body, echoed.payload(), "upstream's answer relayed unchanged");
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(code, event.code());
        assertEquals("invalid", event.classification().label());
        assertArrayEquals(sent, onlyUpstreamConnection().framesRead().get(0).raw(), "relayed byte for byte");
        assertEquals(before + 1, closes("invalid", "invalid", "client"));
        assertEquals(violationsBefore + 1, violations("client_to_upstream", violation));
        assertEquals(answerViolationsBefore + 1, violations("upstream_to_client", violation), "the echoed answer too");
    }

    @Test
    void shouldRelayALengthNotInItsMinimalEncodingUnchangedAndCountIt() throws Exception {
        // Given a client binary frame carrying 5 bytes whose length is written in the 16-bit form
        // (RFC 6455 §5.2: the minimal number of bytes MUST be used), masked with key 01 02 03 04
        byte[] nonMinimal = {(byte) 0x82, (byte) (0x80 | 126), 0x00, 0x05, 0x01, 0x02, 0x03, 0x04,
            'h' ^ 0x01, 'e' ^ 0x02, 'l' ^ 0x03, 'l' ^ 0x04, 'o' ^ 0x01};
        double c2uBefore = violations("client_to_upstream", "non_minimal_length");
        double u2cBefore = violations("upstream_to_client", "non_minimal_length");
        double binaryBefore = harness.count("closewatch.frames", "route", "default", "direction",
                "client_to_upstream", "opcode", "binary");
        WsFrame echoed;
        // When the client sends it, then a Close after the echo
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            client.write(nonMinimal);
            echoed = client.readFrame();
            client.send(true, CLOSE, Frames.closeBody(1000, ""));
            client.readFrame();
        }
        // Then the upstream read the very bytes, the echo (minimal, from the upstream) came back,
        // and the violation is counted once, for the client's direction only
        CloseEvent event = harness.nextEvent();
        assertEquals(1000, event.code());
        assertArrayEquals(nonMinimal, onlyUpstreamConnection().framesRead().get(0).raw(), "relayed byte for byte");
        assertArrayEquals(Frames.unmasked(true, BINARY, "hello".getBytes(StandardCharsets.US_ASCII)), echoed.raw());
        assertEquals(c2uBefore + 1, violations("client_to_upstream", "non_minimal_length"));
        assertEquals(u2cBefore, violations("upstream_to_client", "non_minimal_length"));
        assertEquals(binaryBefore + 1, harness.count("closewatch.frames", "route", "default", "direction",
                "client_to_upstream", "opcode", "binary"));
    }

    @Test
    void shouldBucketUncataloguedPrivateCodes() throws Exception {
        // Given
        double before = closes("4xxx", "private", "client");
        // When
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            client.send(true, CLOSE, Frames.closeBody(4404, "app specific"));
            client.readFrame();
        }
        // Then
        CloseEvent event = harness.nextEvent();
        assertEquals(4404, event.code());
        assertEquals(before + 1, closes("4xxx", "private", "client"));
        assertNull(harness.app.registry().find("closewatch.closes").tag("code", "4404").counter());
    }

    @Test
    void shouldRelayARefusedUpgradeAsIs() throws Exception {
        // Given an upstream that refuses the upgrade
        harness.upstream.script(c -> {
            c.readHead();
            c.writeAscii("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden");
            c.peerClosed();
        });
        double before = harness.count("closewatch.upgrades", "route", "default", "status", "403");
        // When
        try (RawClient client = RawClient.connect(harness.port())) {
            Head head = client.handshake("/private");
            // Then
            assertEquals(403, head.status());
            assertEquals("forbidden", new String(client.readBytes(9), StandardCharsets.UTF_8));
        }
        assertEquals(before + 1, harness.count("closewatch.upgrades", "route", "default", "status", "403"));
        assertTrue(harness.pendingEvents().isEmpty(), "no session was opened");
    }

    @Test
    void shouldForwardTheHandshakeWithForwardedHeaders() throws Exception {
        // When
        try (RawClient client = RawClient.open(harness.port(), "/chat?room=1")) {
            client.send(true, CLOSE, Frames.closeBody(1000, ""));
            client.readFrame();
        }
        harness.nextEvent();
        // Then
        Head request = onlyUpstreamConnection().request();
        assertEquals("GET /chat?room=1 HTTP/1.1", request.startLine());
        assertEquals("127.0.0.1", request.headers().get("x-forwarded-for"));
        assertEquals("http", request.headers().get("x-forwarded-proto"));
        assertEquals("127.0.0.1", request.headers().get("x-forwarded-host"));
        assertEquals("websocket", request.headers().get("upgrade"));
        assertEquals("13", request.headers().get("sec-websocket-version"));
        assertEquals("http://127.0.0.1", request.headers().get("origin"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"text", "binary", "fragmented", "1MiB"})
    void shouldRelayMessagesIntact(String kind) throws Exception {
        // Given
        Random random = new Random(kind.hashCode());
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            // When
            switch (kind) {
                case "text" -> sent.write(client.send(true, TEXT, "héllo wörld".repeat(100).getBytes(StandardCharsets.UTF_8)));
                case "binary" -> sent.write(client.send(true, BINARY, bytes(random, 70_000)));
                case "fragmented" -> {
                    sent.write(client.send(false, TEXT, "part one, ".getBytes(StandardCharsets.UTF_8)));
                    sent.write(client.send(true, PING, "are you there".getBytes(StandardCharsets.UTF_8)));
                    sent.write(client.send(false, CONTINUATION, bytes(random, 300)));
                    sent.write(client.send(true, CONTINUATION, "the end".getBytes(StandardCharsets.UTF_8)));
                }
                default -> sent.write(client.send(true, BINARY, bytes(random, 1 << 20)));
            }
            int frames = kind.equals("fragmented") ? 4 : 1;
            for (int i = 0; i < frames; i++) {
                received.write(client.readFrame().raw());
            }
            client.send(true, CLOSE, Frames.closeBody(1000, ""));
            client.readFrame();
        }
        // Then the upstream got exactly the client's bytes and the client exactly the upstream's
        CloseEvent event = harness.nextEvent();
        RawUpstream.Connection upstream = onlyUpstreamConnection();
        ByteArrayOutputStream atUpstream = new ByteArrayOutputStream();
        ByteArrayOutputStream fromUpstream = new ByteArrayOutputStream();
        List<WsFrame> upstreamFrames = upstream.framesRead();
        for (int i = 0; i < upstreamFrames.size() - 1; i++) {
            atUpstream.write(upstreamFrames.get(i).raw());
            byte[] payload = upstreamFrames.get(i).payload();
            int opcode = upstreamFrames.get(i).opcode();
            fromUpstream.write(Frames.unmasked(upstreamFrames.get(i).fin(), opcode == PING ? 0xA : opcode, payload));
        }
        assertEquals(sha256(sent.toByteArray()), sha256(atUpstream.toByteArray()));
        assertEquals(sha256(fromUpstream.toByteArray()), sha256(received.toByteArray()));
        assertEquals(1000, event.code());
        assertTrue(harness.upstream.errors().isEmpty(), () -> harness.upstream.errors().toString());
    }

    @Test
    void shouldAnswer502WhenTheUpstreamIsDown() throws Exception {
        // Given a route to a port nobody listens on
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (ProxyHarness down = ProxyHarness.start(c -> c.withUpstream("ws://127.0.0.1:" + deadPort))) {
            // When
            try (RawClient client = RawClient.connect(down.port())) {
                Head head = client.handshake("/");
                // Then
                assertEquals(502, head.status());
                String body = new String(client.readBytes(Integer.parseInt(head.headers().get("content-length"))),
                        StandardCharsets.UTF_8);
                assertTrue(body.contains("refused"), body);
                assertTrue(client.peerClosed(), "the proxy closes after a 502");
            }
            assertEquals(1.0, down.count("closewatch.upstream.connect.failures", "route", "default", "cause", "refused"));
            assertEquals(1.0, down.count("closewatch.upgrades", "route", "default", "status", "502"));
        }
    }

    @Test
    void shouldAnswer504WhenTheUpstreamDoesNotAnswerInTime() throws Exception {
        // Given an upstream that reads the request and says nothing
        try (ProxyHarness slow = ProxyHarness.start(c -> c.withUpstreamTimeouts(
                new dev.closewatch.config.UpstreamConfig(Duration.ofSeconds(2), Duration.ofMillis(300))))) {
            slow.upstream.script(c -> {
                c.readHead();
                c.peerClosed();
            });
            // When
            try (RawClient client = RawClient.connect(slow.port())) {
                Head head = client.handshake("/");
                // Then
                assertEquals(504, head.status());
            }
            assertEquals(1.0, slow.count("closewatch.upstream.connect.failures", "route", "default", "cause", "response_timeout"));
            assertEquals(1.0, slow.count("closewatch.upgrades", "route", "default", "status", "504"));
        }
    }

    @Test
    void shouldAnswer400ToMalformedHttpAndKeepServingOthers() throws Exception {
        // Given a session in progress
        try (RawClient good = RawClient.open(harness.port(), "/")) {
            // When another client sends garbage
            try (RawClient bad = RawClient.connect(harness.port())) {
                bad.writeAscii("GARBAGE\r\n\r\n");
                Head head = bad.readHead();
                // Then
                assertEquals(400, head.status());
            }
            // and the session in progress still works
            good.send(true, TEXT, "still here".getBytes(StandardCharsets.UTF_8));
            assertEquals("still here", new String(good.readFrame().payload(), StandardCharsets.UTF_8));
            good.send(true, CLOSE, Frames.closeBody(1000, ""));
            good.readFrame();
        }
        assertEquals(1000, harness.nextEvent().code());
    }

    @Test
    void shouldServeCloseMetricsOnTheAdminPort() throws Exception {
        // Given one session ended with 1008 by the upstream
        harness.upstream.script(c -> {
            c.accept();
            c.send(true, CLOSE, Frames.closeBody(1008, "origin"));
            c.readFrame();
        });
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            WsFrame close = client.readFrame();
            client.send(true, CLOSE, close.payload());
        }
        harness.nextEvent();
        // When
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + harness.adminPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        // Then
        assertEquals(200, metrics.statusCode());
        String body = metrics.body();
        assertTrue(body.contains("closewatch_closes_total{category=\"policy_violation\",code=\"1008\",initiator=\"upstream\",route=\"default\"}"), body);
        for (String name : List.of("closewatch_sessions_active", "closewatch_sessions_opened_total",
                "closewatch_session_duration_seconds_bucket", "closewatch_close_handshake_duration_seconds_bucket",
                "closewatch_close_handshakes_incomplete_total", "closewatch_upgrades_total", "closewatch_frames_total",
                "closewatch_bytes_total", "closewatch_protocol_violations_total", "jvm_memory_used_bytes",
                "netty_allocator_memory_used", "process_cpu_usage")) {
            assertTrue(body.contains(name), name + " missing from /metrics");
        }
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + harness.adminPort() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
