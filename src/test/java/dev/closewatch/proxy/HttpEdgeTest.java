package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.config.LimitsConfig;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawSocket.Head;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The HTTP edge end to end over loopback, raw sockets on both sides: requests pipelined behind an
 * upgrade, decode failures in either direction, keep-alive and request-head timeouts, lingering
 * close, and the key-value log lines. Each test runs its own proxy, so metric values are exact.
 */
class HttpEdgeTest {

    private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    private static final byte[] FIRST = "first".getBytes(StandardCharsets.UTF_8);

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static double opened(ProxyHarness h) {
        return h.count("closewatch.sessions.opened", "route", "default");
    }

    private static double upgrades(ProxyHarness h, String status) {
        return h.count("closewatch.upgrades", "route", "default", "status", status);
    }

    private static double rejected(ProxyHarness h, String reason) {
        return h.count("closewatch.requests.rejected", "reason", reason);
    }

    private static double upstreamFailures(ProxyHarness h, String cause) {
        return h.count("closewatch.upstream.connect.failures", "route", "default", "cause", cause);
    }

    @Test
    void shouldRelayARequestPipelinedBehindAnUpgradeAsTheSessionsFirstBytes() throws Exception {
        // Given an upstream that accepts, reads what follows the request head, and sends a frame
        byte[] smuggled = ascii("GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        CompletableFuture<byte[]> afterHead = new CompletableFuture<>();
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                c.accept();
                afterHead.complete(c.readBytes(smuggled.length));
                c.send(true, TEXT, FIRST);
                c.peerClosed();
            });
            // When the client sends the upgrade and a request in one write
            try (RawClient client = RawClient.connect(h.port())) {
                client.write(concat(ascii(UPGRADE), smuggled));
                // Then the 101 and the upstream's first frame reach the client
                assertEquals(101, client.readHead().status());
                WsFrame frame = client.readFrame();
                assertEquals(TEXT, frame.opcode());
                assertArrayEquals(FIRST, frame.payload());
                // and the upstream got the pipelined bytes as they were, after the head, as session bytes
                assertArrayEquals(smuggled, afterHead.get(10, TimeUnit.SECONDS));
                assertEquals("GET /ws HTTP/1.1", h.upstream.connections().peek().request().startLine());
            }
            // and it is one counted session, whose end is recorded
            h.nextEvent();
            assertEquals(1, h.upstream.connections().size());
            assertEquals(1.0, opened(h));
            assertEquals(1.0, upgrades(h, "101"));
            assertEquals(1.0, h.count("closewatch.frames", "route", "default", "direction", "upstream_to_client",
                    "opcode", "text"));
        }
    }

    @Test
    void shouldRelayAFramePipelinedBehindAnUpgradeAsTheSessionsFirstFrame() throws Exception {
        // Given an echoing upstream
        try (ProxyHarness h = ProxyHarness.start()) {
            byte[] hello = Frames.masked(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
            // When the client sends its first frame in the same write as the upgrade request
            try (RawClient client = RawClient.connect(h.port())) {
                client.write(concat(ascii(UPGRADE), hello));
                // Then it is relayed (and echoed) as the session's first frame
                assertEquals(101, client.readHead().status());
                WsFrame echo = client.readFrame();
                assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8), echo.payload());
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                assertEquals(1000, client.readFrame().closeCode());
            }
            // and the frame observer saw it as a frame
            assertEquals(1000, h.nextEvent().code());
            assertEquals(1.0, opened(h));
            assertEquals(1.0, upgrades(h, "101"));
            assertEquals(1.0, h.count("closewatch.frames", "route", "default", "direction", "client_to_upstream",
                    "opcode", "text"));
            assertEquals(1.0, h.count("closewatch.frames", "route", "default", "direction", "client_to_upstream",
                    "opcode", "close"));
        }
    }

    @Test
    void shouldDropBytesBehindARefusedUpgradeAndClose() throws Exception {
        // Given an upstream that refuses the upgrade and then reads what else it gets
        CompletableFuture<byte[]> rest = new CompletableFuture<>();
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                c.readHead();
                c.writeAscii("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
                rest.complete(c.readToEnd());
            });
            // When a request is pipelined behind the upgrade
            try (RawClient client = RawClient.connect(h.port())) {
                client.write(concat(ascii(UPGRADE), ascii("GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")));
                // Then the client gets the refusal, told the connection closes, and then the close
                Head head = client.readHead();
                assertEquals(403, head.status());
                assertEquals("close", head.headers().get("connection"));
                assertArrayEquals(ascii("no"), client.readBytes(2));
                assertEquals(0, client.readToEnd().length);
            }
            // and the upstream never got the pipelined request
            assertEquals(0, rest.get(10, TimeUnit.SECONDS).length);
            assertEquals(1, h.upstream.connections().size());
            assertEquals(0.0, opened(h));
            assertEquals(1.0, upgrades(h, "403"));
            assertTrue(h.pendingEvents().isEmpty());
        }
    }

    @Test
    void shouldKeepAnUpgradePipelinedBehindAPlainRequestInOrder() throws Exception {
        // Given an upstream that answers a plain request, then accepts an upgrade and echoes
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                Head plain = c.readHead();
                c.writeAscii("HTTP/1.1 200 OK\r\nContent-Length: " + plain.startLine().length() + "\r\n\r\n"
                        + plain.startLine());
                c.echoUntilClose();
            });
            byte[] hello = Frames.masked(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
            // When a plain request, an upgrade and a frame come in one write
            try (RawClient client = RawClient.connect(h.port())) {
                client.write(concat(ascii("GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), ascii(UPGRADE), hello));
                // Then each is answered in order over one upstream connection, the frame after the 101
                Head first = client.readHead();
                assertEquals(200, first.status());
                assertArrayEquals(ascii("GET /a HTTP/1.1"), client.readBytes(15));
                assertEquals(101, client.readHead().status());
                assertArrayEquals("hi".getBytes(StandardCharsets.UTF_8), client.readFrame().payload());
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                assertEquals(1000, client.readFrame().closeCode());
            }
            assertEquals(1000, h.nextEvent().code());
            assertEquals(1, h.upstream.connections().size());
            assertEquals(1.0, opened(h));
            assertEquals(1.0, upgrades(h, "101"));
        }
    }

    @Test
    void shouldNeverRelayA101ThatNoUpgradeAskedFor() throws Exception {
        // Given an upstream that answers a plain request with 101 and a frame
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                c.readHead();
                c.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
                c.send(true, TEXT, FIRST);
                c.peerClosed();
            });
            // When
            try (RawClient client = RawClient.connect(h.port())) {
                client.writeAscii("GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                // Then the client gets 502, not an uncounted session
                assertEquals(502, client.readHead().status());
            }
            assertEquals(1.0, upstreamFailures(h, "invalid_response"));
            assertEquals(0.0, opened(h));
            assertEquals(0.0, upgrades(h, "101"));
        }
    }

    @Test
    void shouldCutTheUpstreamWhenAChunkedRequestBodyFailsToDecode() throws Exception {
        for (String badChunk : List.of("zz\r\nmore\r\n0\r\n\r\n", "ffffffffffffffffff\r\nabcd\r\n0\r\n\r\n")) {
            // Given an upstream that reads the request head, then everything else it gets
            CountDownLatch headRead = new CountDownLatch(1);
            CompletableFuture<byte[]> body = new CompletableFuture<>();
            try (ProxyHarness h = ProxyHarness.start()) {
                h.upstream.script(c -> {
                    c.readHead();
                    headRead.countDown();
                    body.complete(c.readToEnd());
                });
                try (RawClient client = RawClient.connect(h.port())) {
                    client.writeAscii("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
                    assertTrue(headRead.await(10, TimeUnit.SECONDS));
                    // When the body has a good chunk, then a bad one
                    client.writeAscii("4\r\nabcd\r\n" + badChunk);
                    // Then the client gets 400 and the close
                    Head head = client.readHead();
                    assertEquals(400, head.status());
                    assertEquals("close", head.headers().get("connection"));
                }
                // and the upstream never saw the body end: at most the good chunk, then its connection cut
                String got = new String(body.get(10, TimeUnit.SECONDS), StandardCharsets.ISO_8859_1);
                assertTrue("4\r\nabcd\r\n".startsWith(got), got);
                assertEquals(1.0, rejected(h, "malformed"));
            }
        }
    }

    /** RFC 9112 §6.1, §6.3, §2.2, §5.1: request framing two parsers could read two ways, over a real socket. */
    @ParameterizedTest
    @ValueSource(strings = {
            "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
            "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\nabcd",
            "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "GET /x HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n",
            "GET /x HTTP/1.1\nHost: 127.0.0.1\n\n",
            "GET /x HTTP/1.1\r\nHost: 127.0.0.1\rX-A: y\r\n\r\n",
    })
    void shouldAnswer400ToAmbiguousRequestFraming(String request) throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // When
            try (RawClient client = RawClient.connect(h.port())) {
                client.writeAscii(request);
                // Then 400, then the close; nothing reaches the upstream
                Head head = client.readHead();
                assertEquals(400, head.status());
                assertEquals("close", head.headers().get("connection"));
                client.readBytes(Integer.parseInt(head.headers().get("content-length")));
                assertEquals(0, client.readToEnd().length);
            }
            assertEquals(1.0, rejected(h, "malformed"));
            assertEquals(0, h.upstream.connections().size());
        }
    }

    @Test
    void shouldCutTheClientWhenAChunkedResponseFailsToDecode() throws Exception {
        for (String badChunk : List.of("zz\r\nmore\r\n0\r\n\r\n", "ffffffffffffffffff\r\nabcd\r\n0\r\n\r\n")) {
            // Given an upstream that sends a response head and a good chunk, then (on cue) a bad chunk
            CountDownLatch clientGotHead = new CountDownLatch(1);
            try (ProxyHarness h = ProxyHarness.start()) {
                h.upstream.script(c -> {
                    c.readHead();
                    c.writeAscii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
                    clientGotHead.await(10, TimeUnit.SECONDS);
                    c.writeAscii(badChunk);
                    c.peerClosed();
                });
                // When
                try (RawClient client = RawClient.connect(h.port())) {
                    client.writeAscii("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                    assertEquals(200, client.readHead().status());
                    assertArrayEquals(ascii("4\r\nabcd\r\n"), client.readBytes(9));
                    clientGotHead.countDown();
                    // Then the client's connection is cut: no terminator ever comes
                    assertEquals(0, client.readToEnd().length);
                }
                assertEquals(1.0, upstreamFailures(h, "invalid_response"));
                assertEquals(0.0, upstreamFailures(h, "closed_early"));
            }
        }
    }

    @Test
    void shouldRelayTheUpstreamsFirstFrameSentWithThe101() throws Exception {
        // Given an upstream that writes the 101 and its first frame in one write
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                c.readHead();
                c.write(concat(ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), Frames.unmasked(true, TEXT, FIRST)));
                WsFrame close = c.readFrame();
                c.send(true, CLOSE, close.payload());
            });
            // When
            try (RawClient client = RawClient.connect(h.port())) {
                client.writeAscii(UPGRADE);
                // Then the frame follows the 101, byte for byte
                assertEquals(101, client.readHead().status());
                assertArrayEquals(Frames.unmasked(true, TEXT, FIRST), client.readFrame().raw());
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                assertEquals(1000, client.readFrame().closeCode());
            }
            assertEquals(1000, h.nextEvent().code());
            assertEquals(1.0, opened(h));
            assertEquals(1.0, h.count("closewatch.frames", "route", "default", "direction", "upstream_to_client",
                    "opcode", "text"));
        }
    }

    @Test
    void shouldAnswer502ToA101WithoutSecWebSocketAccept() throws Exception {
        // Given an upstream whose 101 lacks Sec-WebSocket-Accept (RFC 6455 §4.2.2)
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                c.readHead();
                c.write(concat(ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
                        Frames.unmasked(true, TEXT, FIRST)));
                c.peerClosed();
            });
            // When
            try (RawClient client = RawClient.connect(h.port())) {
                client.writeAscii(UPGRADE);
                // Then
                assertEquals(502, client.readHead().status());
            }
            assertEquals(1.0, upstreamFailures(h, "invalid_response"));
            assertEquals(1.0, upgrades(h, "502"));
            assertEquals(0.0, upgrades(h, "101"));
            assertEquals(0.0, opened(h));
        }
    }

    @Test
    void shouldAnswer502ToAResponseHeadThatFailsToDecode() throws Exception {
        for (String response : List.of("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\nContent-Length: 4\n\nabcd")) {
            // Given an upstream whose response framing is ambiguous
            try (ProxyHarness h = ProxyHarness.start()) {
                h.upstream.script(c -> {
                    c.readHead();
                    c.writeAscii(response);
                    c.peerClosed();
                });
                // When
                try (RawClient client = RawClient.connect(h.port())) {
                    client.writeAscii("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                    // Then
                    assertEquals(502, client.readHead().status(), response);
                }
                assertEquals(1.0, upstreamFailures(h, "invalid_response"));
            }
        }
    }

    @Test
    void shouldForwardAFoldedHeaderUnfolded() throws Exception {
        // Given
        CompletableFuture<Head> forwarded = new CompletableFuture<>();
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                forwarded.complete(c.readHead());
                c.writeAscii("HTTP/1.1 204 No Content\r\n\r\n");
                c.peerClosed();
            });
            // When a header value uses obs-fold
            try (RawClient client = RawClient.connect(h.port())) {
                client.writeAscii("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n b\r\n\r\n");
                assertEquals(204, client.readHead().status());
            }
            // Then the upstream gets it as one line (RFC 9112 §5.2: replaced with SP)
            assertEquals("a b", forwarded.get(10, TimeUnit.SECONDS).headers().get("x-a"));
        }
    }

    @Test
    void shouldCloseIdleKeepAliveConnectionsAndFreeTheirSlots() throws Exception {
        // Given max_connections 20 and a short keepalive_timeout
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(
                new LimitsConfig(20, Duration.ofSeconds(5), null, null, null, Duration.ofSeconds(3))))) {
            h.upstream.script(c -> {
                while (true) {
                    c.readHead();
                    c.writeAscii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                }
            });
            List<RawClient> idle = new ArrayList<>();
            try {
                // When 20 connections each make one request and go idle
                for (int i = 0; i < 20; i++) {
                    RawClient c = RawClient.connect(h.port());
                    idle.add(c);
                    c.writeAscii("GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                    assertEquals(200, c.readHead().status());
                    assertArrayEquals(ascii("ok"), c.readBytes(2));
                }
                // Then while they idle, an upgrade finds no slot
                try (RawClient blocked = RawClient.connect(h.port())) {
                    assertEquals(503, blocked.handshake("/ws").status());
                }
                assertEquals(1.0, rejected(h, "max_connections"));
                assertEquals(0.0, h.count("closewatch.keepalive.timeouts"));
                // and each is closed silently once the keep-alive timeout passes
                for (RawClient c : idle) {
                    assertEquals(0, c.readToEnd().length);
                }
            } finally {
                for (RawClient c : idle) {
                    c.close();
                }
            }
            assertEquals(20.0, h.count("closewatch.keepalive.timeouts"));
            // and an upgrade gets a slot
            h.upstream.script(RawUpstream.Connection::echoUntilClose);
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().settings().connections().get() == 0);
            try (RawClient ws = RawClient.open(h.port(), "/ws")) {
                assertEquals(101, ws.response().status());
                ws.send(true, CLOSE, Frames.closeBody(1000, ""));
                ws.readFrame();
            }
            assertEquals(1.0, rejected(h, "max_connections"));
            assertEquals(1.0, upgrades(h, "101"));
        }
    }

    @Test
    void shouldTimeOutASecondRequestHeadSentOneByteAtATime() throws Exception {
        // Given a 500 ms request-head timeout and a long keep-alive timeout
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(
                new LimitsConfig(null, Duration.ofMillis(500), null, null, null, Duration.ofSeconds(30))));
             RawClient client = RawClient.connect(h.port())) {
            h.upstream.script(c -> {
                while (true) {
                    c.readHead();
                    c.writeAscii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                }
            });
            client.writeAscii("GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertEquals(200, client.readHead().status());
            assertArrayEquals(ascii("ok"), client.readBytes(2));
            // When the second request comes one byte every 100 ms
            byte[] slow = ascii("GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + "a".repeat(100) + "\r\n\r\n");
            int[] next = {0};
            trickle.scheduleAtFixedRate(() -> {
                try {
                    if (next[0] < slow.length) {
                        client.write(new byte[] {slow[next[0]++]});
                    }
                } catch (IOException e) {
                    next[0] = slow.length;
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            // Then it gets 408 when its head is not complete in time
            Head head = client.readHead();
            assertEquals(408, head.status());
            assertEquals(1.0, rejected(h, "handshake_timeout"));
            assertEquals(0.0, h.count("closewatch.keepalive.timeouts"));
            assertEquals(1, h.upstream.connections().size());
        } finally {
            trickle.shutdownNow();
        }
    }

    @Test
    void shouldDeliverTheRejectionWhileTheClientStillSends() throws Exception {
        // Given
        byte[] body = new byte[256 * 1024];
        Arrays.fill(body, (byte) 'x');
        byte[] tooLarge = ascii("POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(20_000) + "\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n");
        byte[] badFraming = ascii("POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n");
        try (ProxyHarness h = ProxyHarness.start()) {
            for (int i = 0; i < 100; i++) {
                // When a rejected head comes with a big body the proxy will not read as a request
                boolean large = i % 2 == 0;
                try (RawClient client = RawClient.connect(h.port())) {
                    client.write(concat(large ? tooLarge : badFraming, body));
                    // Then the whole answer arrives, every time
                    Head head = client.readHead();
                    assertEquals(large ? 431 : 400, head.status(), "try " + i);
                    int length = Integer.parseInt(head.headers().get("content-length"));
                    String text = new String(client.readBytes(length), StandardCharsets.UTF_8);
                    assertTrue(text.startsWith("closewatch: "), text);
                    assertTrue(text.endsWith("\n"), text);
                }
            }
            assertEquals(50.0, rejected(h, "header_too_large"));
            assertEquals(50.0, rejected(h, "malformed"));
            assertEquals(0, h.upstream.connections().size());
        }
    }

    @Test
    void shouldAnswerTheHttp2PrefaceOnceWith505() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // When a client speaks HTTP/2 with prior knowledge
            try (RawClient client = RawClient.connect(h.port())) {
                client.write(concat(ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}));
                // Then one 505, then the close
                Head head = client.readHead();
                assertEquals(505, head.status());
                client.readBytes(Integer.parseInt(head.headers().get("content-length")));
                assertEquals(0, client.readToEnd().length);
            }
            // counted once
            assertEquals(1.0, rejected(h, "version_not_supported"));
            assertEquals(0.0, rejected(h, "malformed"));
            assertEquals(0, h.upstream.connections().size());
        }
    }

    @Test
    void shouldAnswer400ToAMissingOrRepeatedHost() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            for (String request : List.of("GET /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")) {
                // When
                try (RawClient client = RawClient.connect(h.port())) {
                    client.writeAscii(request);
                    // Then (RFC 9112 §3.2)
                    assertEquals(400, client.readHead().status());
                }
            }
            assertEquals(2.0, rejected(h, "invalid_host"));
            assertEquals(0, h.upstream.connections().size());
        }
    }

    @Test
    void shouldWriteKeyValueLinesForUpstreamFailuresAndDrain() throws Exception {
        // Given captured proxy log lines
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        Logger frontend = (Logger) LoggerFactory.getLogger(FrontendHandler.class);
        Logger server = (Logger) LoggerFactory.getLogger(ProxyServer.class);
        frontend.addAppender(lines);
        server.addAppender(lines);
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                c.readHead();
                c.writeAscii("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd");
                c.peerClosed();
            });
            // When an upstream answers badly, and then the proxy drains
            String id;
            try (RawClient client = RawClient.connect(h.port())) {
                client.writeAscii("GET /x\u001b[2K HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                assertEquals(502, client.readHead().status());
            }
            h.app.proxy().drain();
            // Then both are key-value lines with an event
            ILoggingEvent failure = await().atMost(Duration.ofSeconds(5)).until(() -> lines.list.stream()
                    .filter(l -> "upstream.failure".equals(ProxyHarness.kv(l, "event"))).findFirst().orElse(null),
                    l -> l != null);
            assertEquals("invalid_response", ProxyHarness.kv(failure, "cause"));
            assertEquals(502, ProxyHarness.kv(failure, "status"));
            assertEquals("default", ProxyHarness.kv(failure, "route"));
            id = (String) ProxyHarness.kv(failure, "connection");
            assertEquals(8, id.length(), id);
            String detail = (String) ProxyHarness.kv(failure, "detail");
            assertFalse(detail.chars().anyMatch(c -> c < 0x20), detail);
            ILoggingEvent drain = lines.list.stream().filter(l -> "proxy.drain".equals(ProxyHarness.kv(l, "event")))
                    .findFirst().orElseThrow();
            assertEquals(0, ProxyHarness.kv(drain, "sessions"));
            assertEquals("closewatch draining", drain.getFormattedMessage());
        } finally {
            frontend.detachAppender(lines);
            server.detachAppender(lines);
        }
    }
}
