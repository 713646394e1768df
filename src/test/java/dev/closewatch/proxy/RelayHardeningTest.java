package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.BINARY;
import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.PING;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.config.DrainConfig;
import dev.closewatch.config.KeepaliveConfig;
import dev.closewatch.config.LimitsConfig;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawSocket;
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
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The relay's edges end to end over loopback (issue 10, items 8–12): half-closes, the ping
 * timeout during a long frame, bytes counted as delivered, RSV bits and the answering Close's
 * code, and an oversized frame whose header straddled reads. Every test asserts the bytes each
 * peer received and exact metric deltas.
 */
class RelayHardeningTest {

    private static final String ROUTE = "default";
    private static final String C2U = "client_to_upstream";
    private static final String U2C = "upstream_to_client";

    /** The metrics of one direction at one moment: delivered and discarded bytes, and frames by opcode. */
    private record Counts(double bytes, double discarded, double close, double ping, double text, double binary) {
        static Counts of(ProxyHarness h, String direction) {
            return new Counts(h.count("closewatch.bytes", "route", ROUTE, "direction", direction),
                    h.count("closewatch.bytes.discarded", "route", ROUTE, "direction", direction),
                    frames(h, direction, "close"), frames(h, direction, "ping"), frames(h, direction, "text"),
                    frames(h, direction, "binary"));
        }

        private static double frames(ProxyHarness h, String direction, String opcode) {
            return h.count("closewatch.frames", "route", ROUTE, "direction", direction, "opcode", opcode);
        }

        Counts minus(Counts before) {
            return new Counts(bytes - before.bytes, discarded - before.discarded, close - before.close,
                    ping - before.ping, text - before.text, binary - before.binary);
        }
    }

    private static Counts counts(double bytes, double discarded, double close, double ping, double text, double binary) {
        return new Counts(bytes, discarded, close, ping, text, binary);
    }

    /** Reads whatever the peer still sends until its FIN; fails on a reset or a 10 s silence. */
    private static byte[] readUntilFin(RawSocket socket) throws Exception {
        return socket.input().readAllBytes();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    // -------------------------------------------------------------------------------------
    // Item 8: half-close
    // -------------------------------------------------------------------------------------

    @Test
    void shouldRelayTheUpstreamsAnswerToAClientThatHalfClosedAfterItsClose() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream that reads the client's Close, waits for the FIN, then answers and closes
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] answer = Frames.unmasked(true, CLOSE, Frames.closeBody(1000, "bye"));
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame close = conn.readFrame();
                byte[] afterClose = conn.input().readAllBytes(); // until the FIN the proxy passed on
                upstreamRead.complete(concat(close.raw(), afterClose));
                conn.write(answer);
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client sends Close 1000 and shuts down its output, still reading
                byte[] close = client.send(true, CLOSE, Frames.closeBody(1000, ""));
                client.shutdownOutput();

                // Then the upstream got exactly the Close, then a FIN
                assertArrayEquals(close, upstreamRead.get(10, TimeUnit.SECONDS));
                // and the client gets the upstream's answer byte for byte, then a FIN
                assertArrayEquals(answer, readUntilFin(client));

                CloseEvent event = h.nextEvent();
                assertEquals(1000, event.code());
                assertEquals(Initiator.CLIENT, event.initiator());
                assertTrue(event.clean());
                assertEquals(Cause.CLOSE_HANDSHAKE, event.cause());
                assertEquals(1000, event.answerCode());
                assertEquals(close.length, event.bytesClientToUpstream());
                assertEquals(answer.length, event.bytesUpstreamToClient());
                assertEquals(counts(close.length, 0, 1, 0, 0, 0), Counts.of(h, C2U));
                assertEquals(counts(answer.length, 0, 1, 0, 0, 0), Counts.of(h, U2C));
                assertEquals(0.0, h.count("closewatch.close.handshakes.incomplete", "route", ROUTE, "initiator", "client"));
                assertEquals("1000", ProxyHarness.kv(h.logLine(event.sessionId()), "answer_code"));
            }
            assertTrue(h.upstream.errors().isEmpty(), h.upstream.errors().toString());
        }
    }

    @Test
    void shouldRelayTheClientsAnswerToAnUpstreamThatHalfClosedAfterItsClose() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream that sends Close 1001, shuts down its output, and reads on
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] close = Frames.unmasked(true, CLOSE, Frames.closeBody(1001, "restart"));
            h.upstream.script(conn -> {
                conn.accept();
                conn.write(close);
                conn.shutdownOutput();
                upstreamRead.complete(conn.input().readAllBytes()); // a reset would throw here
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client reads the Close and the FIN, then answers
                assertArrayEquals(close, readUntilFin(client));
                byte[] answer = client.send(true, CLOSE, Frames.closeBody(1001, ""));

                // Then the upstream gets the answer byte for byte, then a FIN (no reset)
                assertArrayEquals(answer, upstreamRead.get(10, TimeUnit.SECONDS));
                CloseEvent event = h.nextEvent();
                assertEquals(1001, event.code());
                assertEquals(Initiator.UPSTREAM, event.initiator());
                assertTrue(event.clean());
                assertEquals(Cause.CLOSE_HANDSHAKE, event.cause());
                assertEquals(1001, event.answerCode());
                assertEquals(counts(answer.length, 0, 1, 0, 0, 0), Counts.of(h, C2U));
                assertEquals(counts(close.length, 0, 1, 0, 0, 0), Counts.of(h, U2C));
            }
            assertTrue(h.upstream.errors().isEmpty(), h.upstream.errors().toString());
        }
    }

    @Test
    void shouldCloseBothAtDrainTimeoutWhenAHalfClosedClientsCloseIsNeverAnswered() throws Exception {
        // Given a 300 ms drain.timeout and an upstream that reads everything and never answers or closes
        try (ProxyHarness h = ProxyHarness.start(c -> c.withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO, Duration.ofMillis(300), null, null, null)))) {
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            CountDownLatch done = new CountDownLatch(1);
            h.upstream.script(conn -> {
                conn.accept();
                upstreamRead.complete(conn.input().readAllBytes());
                done.await();
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client sends Close 1000 and half-closes
                byte[] close = client.send(true, CLOSE, Frames.closeBody(1000, ""));
                client.shutdownOutput();

                // Then the upstream gets the Close and the FIN, and at the deadline both are closed
                assertArrayEquals(close, upstreamRead.get(10, TimeUnit.SECONDS));
                assertArrayEquals(new byte[0], readUntilFin(client));
                CloseEvent event = h.nextEvent();
                assertEquals(1000, event.code());
                assertEquals(Initiator.CLIENT, event.initiator());
                assertFalse(event.clean());
                assertNull(event.answerCode());
                assertEquals(1.0, h.count("closewatch.close.handshakes.incomplete", "route", ROUTE, "initiator", "client"));
            } finally {
                done.countDown();
            }
        }
    }

    @Test
    void shouldEndTheSessionAs1006WhenTheClientHalfClosesWithoutAClose() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream that echoes a text frame, then reads until its connection ends
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame text = conn.readFrame();
                conn.send(true, text.opcode(), text.payload());
                upstreamRead.complete(concat(text.raw(), conn.input().readAllBytes()));
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                byte[] text = client.send(true, TEXT, "hi".getBytes(StandardCharsets.UTF_8));
                byte[] echo = client.readFrame().raw();

                // When the client shuts down its output without a Close frame (RFC 6455 §7.1.5)
                client.shutdownOutput();

                // Then both connections are closed: the upstream got the text and a FIN, the client a FIN
                assertArrayEquals(text, upstreamRead.get(10, TimeUnit.SECONDS));
                assertArrayEquals(new byte[0], readUntilFin(client));
                CloseEvent event = h.nextEvent();
                assertEquals(1006, event.code());
                assertEquals(Initiator.CLIENT, event.initiator());
                assertEquals(Cause.FIN, event.cause());
                assertFalse(event.clean());
                assertNull(event.answerCode());
                assertEquals(1.0, h.count("closewatch.abnormal.closures", "route", ROUTE, "initiator", "client",
                        "cause", "fin"));
                assertEquals(counts(text.length, 0, 0, 0, 1, 0), Counts.of(h, C2U));
                assertEquals(counts(echo.length, 0, 0, 0, 1, 0), Counts.of(h, U2C));
            }
        }
    }

    @Test
    void shouldEndTheSessionAs1006WhenTheUpstreamHalfClosesWithoutAClose() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream that shuts down its output without a Close frame
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            h.upstream.script(conn -> {
                conn.accept();
                conn.shutdownOutput();
                upstreamRead.complete(conn.input().readAllBytes());
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When / Then the client's connection is closed, and so is the upstream's
                assertArrayEquals(new byte[0], readUntilFin(client));
                assertArrayEquals(new byte[0], upstreamRead.get(10, TimeUnit.SECONDS));
                CloseEvent event = h.nextEvent();
                assertEquals(1006, event.code());
                assertEquals(Initiator.UPSTREAM, event.initiator());
                assertEquals(Cause.FIN, event.cause());
                assertEquals(1.0, h.count("closewatch.abnormal.closures", "route", ROUTE, "initiator", "upstream",
                        "cause", "fin"));
                assertEquals(counts(0, 0, 0, 0, 0, 0), Counts.of(h, C2U));
                assertEquals(counts(0, 0, 0, 0, 0, 0), Counts.of(h, U2C));
            }
        }
    }

    // -------------------------------------------------------------------------------------
    // Item 9: ping timeout during a long frame
    // -------------------------------------------------------------------------------------

    @Test
    void shouldNotCutAClientForAPingThatCouldNotBeWrittenDuringALongFrame() throws Exception {
        // Given Pings every 100 ms, a 400 ms ping timeout, and an upstream that sends half of a
        // 30 KB frame, waits for the test, then sends the rest
        try (ProxyHarness h = ProxyHarness.start(c -> c.withKeepalive(
                new KeepaliveConfig(Duration.ofMillis(100), Duration.ofMillis(400), null, null, null)))) {
            byte[] frame = Frames.unmasked(true, BINARY, new byte[30_000]);
            CountDownLatch rest = new CountDownLatch(1);
            h.upstream.script(conn -> {
                conn.accept();
                conn.write(Arrays.copyOf(frame, 15_000));
                rest.await();
                conn.write(Arrays.copyOfRange(frame, 15_000, frame.length));
                conn.input().readAllBytes();
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                byte[] first = client.readBytes(15_000);

                // When the client, sending nothing, waits three ping timeouts inside the frame
                // Then it is not cut (no Ping could be written, so none is outstanding)
                await().during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(5))
                        .until(() -> h.pendingEvents().isEmpty());
                rest.countDown();
                byte[] second = client.readBytes(frame.length - 15_000);
                assertArrayEquals(frame, concat(first, second));

                // When Pings can be written after the frame and the client never answers
                // Then only Pings follow, and it is cut as 1006 ping_timeout
                byte[] after = readUntilFin(client);
                assertTrue(after.length > 0 && after.length % 10 == 0, "whole Pings only: " + after.length);
                int pings = after.length / 10;
                for (int i = 0; i < pings; i++) {
                    assertEquals((byte) 0x89, after[10 * i]);
                    assertEquals((byte) 0x08, after[10 * i + 1]);
                }
                CloseEvent event = h.nextEvent();
                assertEquals(1006, event.code());
                assertEquals(Initiator.CLIENT, event.initiator());
                assertEquals(Cause.PING_TIMEOUT, event.cause());
                // the Pings are the proxy's own frames, delivered to the client
                assertEquals(counts(frame.length + after.length, 0, 0, pings, 0, 1), Counts.of(h, U2C));
                assertEquals(frame.length + after.length, event.bytesUpstreamToClient());
                assertEquals(1.0, h.count("closewatch.abnormal.closures", "route", ROUTE, "initiator", "client",
                        "cause", "ping_timeout"));
            }
        }
    }

    // -------------------------------------------------------------------------------------
    // Item 10: bytes counted are bytes delivered
    // -------------------------------------------------------------------------------------

    @Test
    void shouldCountAnOversizedClientFrameAsDiscardedNotDelivered() throws Exception {
        // Given a 1000-byte frame limit and an upstream that answers the proxy's Close
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(new LimitsConfig(null, null, null, null, 1000L)))) {
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] upstreamAnswer = Frames.unmasked(true, CLOSE, Frames.closeBody(1001, ""));
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame close = conn.readFrame();
                conn.write(upstreamAnswer);
                upstreamRead.complete(concat(close.raw(), conn.input().readAllBytes()));
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client sends a 1001-byte frame
                byte[] big = client.send(true, BINARY, new byte[1001]);

                // Then the client gets Close 1009 and nothing else
                WsFrame close = client.readFrame();
                assertArrayEquals(Frames.unmasked(true, CLOSE, Frames.closeBody(1009, "frame too big")), close.raw());
                byte[] answer = client.send(true, CLOSE, Frames.closeBody(1009, ""));
                assertArrayEquals(new byte[0], readUntilFin(client));
                // and the upstream only the proxy's masked 18-byte Close 1001
                byte[] toUpstream = upstreamRead.get(10, TimeUnit.SECONDS);
                assertEquals(18, toUpstream.length);
                assertEquals((byte) 0x88, toUpstream[0]);
                assertEquals((byte) (0x80 | 12), toUpstream[1]);

                // and only what was delivered is counted as such
                CloseEvent event = h.nextEvent();
                assertTrue(event.clean());
                assertEquals(18, event.bytesClientToUpstream());
                assertEquals(close.raw().length, event.bytesUpstreamToClient());
                assertEquals(counts(18, big.length + answer.length, 1, 0, 0, 0), Counts.of(h, C2U));
                assertEquals(counts(close.raw().length, upstreamAnswer.length, 1, 0, 0, 0), Counts.of(h, U2C));
                assertEquals(1009, event.code());
            }
        }
    }

    @Test
    void shouldCountAnOversizedUpstreamFrameAsDiscardedNotDelivered() throws Exception {
        // Given a 1000-byte frame limit and an upstream that sends a 1001-byte frame
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(new LimitsConfig(null, null, null, null, 1000L)))) {
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] big = Frames.unmasked(true, BINARY, new byte[1001]);
            byte[] upstreamAnswer = Frames.unmasked(true, CLOSE, Frames.closeBody(1009, ""));
            h.upstream.script(conn -> {
                conn.accept();
                conn.write(big);
                WsFrame close = conn.readFrame();
                conn.write(upstreamAnswer);
                upstreamRead.complete(concat(close.raw(), conn.input().readAllBytes()));
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When / Then the client gets Close 1001 only, and answers
                WsFrame close = client.readFrame();
                assertArrayEquals(Frames.unmasked(true, CLOSE, Frames.closeBody(1001, "going away")), close.raw());
                byte[] answer = client.send(true, CLOSE, Frames.closeBody(1001, ""));
                assertArrayEquals(new byte[0], readUntilFin(client));
                // and the upstream gets a masked Close 1009 "frame too big" (21 bytes) only
                byte[] toUpstream = upstreamRead.get(10, TimeUnit.SECONDS);
                assertEquals(21, toUpstream.length);
                assertEquals((byte) (0x80 | 15), toUpstream[1]);

                CloseEvent event = h.nextEvent();
                assertTrue(event.clean());
                assertEquals(21, event.bytesClientToUpstream());
                assertEquals(close.raw().length, event.bytesUpstreamToClient());
                assertEquals(counts(21, answer.length, 1, 0, 0, 0), Counts.of(h, C2U));
                assertEquals(counts(close.raw().length, big.length + upstreamAnswer.length, 1, 0, 0, 0),
                        Counts.of(h, U2C));
            }
        }
    }

    @Test
    void shouldCountFramesReadAfterADrainCloseAsDiscarded() throws Exception {
        // Given a session whose upstream reads the proxy's Close and answers it, after a text frame of its own
        try (ProxyHarness h = ProxyHarness.start(c -> c.withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(5), null, null, null)))) {
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] late = Frames.unmasked(true, TEXT, "late".getBytes(StandardCharsets.UTF_8));
            byte[] upstreamAnswer = Frames.unmasked(true, CLOSE, Frames.closeBody(1012, ""));
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame close = conn.readFrame();
                conn.write(concat(late, upstreamAnswer));
                upstreamRead.complete(concat(close.raw(), conn.input().readAllBytes()));
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == 1);
                // When the proxy drains, and the client sends a text frame before its answer
                h.app.proxy().drain();
                WsFrame close = client.readFrame();
                assertEquals(1012, close.closeCode());
                byte[] text = client.send(true, TEXT, "late".getBytes(StandardCharsets.UTF_8));
                byte[] answer = client.send(true, CLOSE, close.payload());

                // Then neither late frame nor answer is relayed, and they are counted as discarded
                assertArrayEquals(new byte[0], readUntilFin(client));
                byte[] toUpstream = upstreamRead.get(10, TimeUnit.SECONDS);
                assertEquals(1012, Frames.unmask(Arrays.copyOfRange(toUpstream, 6, 8),
                        Arrays.copyOfRange(toUpstream, 2, 6))[0] << 8
                        | Frames.unmask(Arrays.copyOfRange(toUpstream, 6, 8), Arrays.copyOfRange(toUpstream, 2, 6))[1] & 0xFF);
                CloseEvent event = h.nextEvent();
                assertEquals(Cause.DRAIN, event.cause());
                assertTrue(event.clean());
                assertEquals(counts(toUpstream.length, text.length + answer.length, 1, 0, 0, 0), Counts.of(h, C2U));
                assertEquals(counts(close.raw().length, late.length + upstreamAnswer.length, 1, 0, 0, 0),
                        Counts.of(h, U2C));
                assertEquals(toUpstream.length, event.bytesClientToUpstream());
                assertEquals(close.raw().length, event.bytesUpstreamToClient());
            }
        }
    }

    // -------------------------------------------------------------------------------------
    // Item 11: RSV bits and the answering Close's code
    // -------------------------------------------------------------------------------------

    @Test
    void shouldRelayAndCountReservedBitsWithoutAnExtensionInBothDirections() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream without extensions that echoes frames as they are
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] rsv2 = Frames.unmasked(true, 0x20 | BINARY, new byte[] {1, 2, 3});
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame f = conn.readFrame();
                conn.write(rsv2);
                WsFrame close = conn.readFrame();
                conn.send(true, CLOSE, close.payload());
                upstreamRead.complete(concat(f.raw(), close.raw()));
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client sends a text frame with RSV1 set and the upstream one with RSV2
                byte[] rsv1 = client.send(true, 0x40 | TEXT, "x".getBytes(StandardCharsets.UTF_8));
                assertArrayEquals(rsv2, client.readFrame().raw());
                byte[] close = client.send(true, CLOSE, Frames.closeBody(1000, ""));
                client.readFrame();

                // Then both were relayed unchanged and each counted once as reserved_bits
                assertArrayEquals(concat(rsv1, close), upstreamRead.get(10, TimeUnit.SECONDS));
                h.nextEvent();
                assertEquals(1.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", C2U,
                        "violation", "reserved_bits"));
                assertEquals(1.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", U2C,
                        "violation", "reserved_bits"));
            }
        }
    }

    @Test
    void shouldAllowRsv1OfPermessageDeflateNegotiatedInThe101() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream whose 101 agrees to permessage-deflate
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            byte[] compressed = Frames.unmasked(true, 0x40 | TEXT, new byte[] {(byte) 0xCA, 0x00});
            byte[] badPing = Frames.unmasked(true, 0x40 | PING, new byte[0]);
            h.upstream.script(conn -> {
                RawSocket.Head request = conn.readHead();
                conn.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: " + acceptKey(request.headers().get("sec-websocket-key")) + "\r\n"
                        + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n");
                WsFrame f = conn.readFrame();
                conn.write(concat(compressed, badPing));
                WsFrame close = conn.readFrame();
                conn.send(true, CLOSE, close.payload());
                upstreamRead.complete(f.raw());
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                assertEquals("permessage-deflate; server_no_context_takeover",
                        client.response().headers().get("sec-websocket-extensions"));
                // When both sides send compressed messages (RSV1 on the first frame) and the
                // upstream a Ping with RSV1 (not allowed on control frames, RFC 7692 §6.1)
                byte[] fromClient = client.send(true, 0x40 | BINARY, new byte[] {1, 2});
                assertArrayEquals(compressed, client.readFrame().raw());
                assertArrayEquals(badPing, client.readFrame().raw());
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                client.readFrame();

                // Then only the Ping is a violation
                assertArrayEquals(fromClient, upstreamRead.get(10, TimeUnit.SECONDS));
                h.nextEvent();
                assertEquals(0.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", C2U,
                        "violation", "reserved_bits"));
                assertEquals(1.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", U2C,
                        "violation", "reserved_bits"));
            }
        }
    }

    @Test
    void shouldReadEveryExtensionsHeaderOfThe101() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given a 101 that lists its extensions in two headers (RFC 6455 §9.1), the second an
            // extension closewatch does not know, which may give RSV2 and RSV3 a meaning
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            h.upstream.script(conn -> {
                RawSocket.Head request = conn.readHead();
                conn.writeAscii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: " + acceptKey(request.headers().get("sec-websocket-key")) + "\r\n"
                        + "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                        + "Sec-WebSocket-Extensions: x-private-framing\r\n\r\n");
                WsFrame f = conn.readFrame();
                WsFrame close = conn.readFrame();
                conn.send(true, CLOSE, close.payload());
                upstreamRead.complete(f.raw());
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client sends a frame with RSV2 and RSV3 set
                byte[] fromClient = client.send(true, 0x30 | BINARY, new byte[] {1, 2});
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                client.readFrame();

                // Then it is relayed as sent and is no violation: the second header counts too
                assertArrayEquals(fromClient, upstreamRead.get(10, TimeUnit.SECONDS));
                h.nextEvent();
                assertEquals(0.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", C2U,
                        "violation", "reserved_bits"));
            }
        }
    }

    @Test
    void shouldRecordTheAnswerToAnInvalidCloseInEventLogLineAndApi() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given an upstream that answers an invalid Close with 1002 Protocol Error
            h.upstream.script(conn -> {
                conn.accept();
                conn.readFrame();
                conn.send(true, CLOSE, Frames.closeBody(1002, "invalid close"));
                conn.input().readAllBytes();
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client's first Close has RSV1 set and a code that must not be sent (1005)
                client.write(Frames.frame(true, 0x40 | CLOSE, Frames.closeBody(1005, ""), 0x01020304));
                WsFrame answer = client.readFrame();
                assertEquals(1002, answer.closeCode());
            }

            // Then the first Close is recorded, with the answer's code beside it
            CloseEvent event = h.nextEvent();
            assertEquals(1005, event.code());
            assertEquals("invalid", event.classification().label());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertEquals(1002, event.answerCode());
            assertTrue(event.clean());
            assertEquals("1002", ProxyHarness.kv(h.logLine(event.sessionId()), "answer_code"));
            assertEquals(1.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", C2U,
                    "violation", "reserved_bits"));
            assertEquals(1.0, h.count("closewatch.protocol.violations", "route", ROUTE, "direction", C2U,
                    "violation", "invalid_close_code"));
            HttpResponse<String> closes = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + h.adminPort() + "/api/closes")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, closes.statusCode());
            assertTrue(closes.body().contains("\"answer_code\":1002"), closes.body());
        }
    }

    static String acceptKey(String key) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
        return Base64.getEncoder().encodeToString(digest);
    }

    // -------------------------------------------------------------------------------------
    // Item 12: an oversized frame whose header straddled reads
    // -------------------------------------------------------------------------------------

    @Test
    void shouldCloseAtOnceWhenTheClientAnswersAfterASplitOversizedHeaderAtEveryOffset() throws Exception {
        // Given a 1000-byte limit and a drain.timeout far beyond the socket read timeout, so a
        // session held until the deadline fails the read below
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(new LimitsConfig(null, null, null, null, 1000L))
                .withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(60), null, null, null)))) {
            AtomicInteger split = new AtomicInteger();
            LinkedBlockingQueue<byte[]> upstreamReads = new LinkedBlockingQueue<>();
            CountDownLatch[] gotHead = new CountDownLatch[1];
            h.upstream.script(conn -> {
                conn.accept();
                byte[] head = conn.readBytes(split.get());
                gotHead[0].countDown();
                upstreamReads.add(concat(head, conn.input().readAllBytes()));
            });
            byte[] frame = Frames.frame(true, BINARY, new byte[2000], 0x11223344); // 8-byte header
            for (int k = 1; k < 8; k++) {
                h.clear();
                split.set(k);
                gotHead[0] = new CountDownLatch(1);
                Counts c2uBefore = Counts.of(h, C2U);
                Counts u2cBefore = Counts.of(h, U2C);
                try (RawClient client = RawClient.open(h.port(), "/")) {
                    // When the header is split after k bytes, which the proxy relays before the rest arrives
                    client.write(Arrays.copyOf(frame, k));
                    assertTrue(gotHead[0].await(10, TimeUnit.SECONDS), "k=" + k);
                    client.write(Arrays.copyOfRange(frame, k, frame.length));

                    // Then the client gets Close 1009, answers, and is closed at once (no drain.timeout wait)
                    WsFrame close = client.readFrame();
                    assertArrayEquals(Frames.unmasked(true, CLOSE, Frames.closeBody(1009, "frame too big")), close.raw(),
                            "k=" + k);
                    byte[] answer = client.send(true, CLOSE, Frames.closeBody(1009, ""));
                    assertEquals(-1, client.input().read(), "k=" + k);
                    // and the upstream got the k header bytes and then its connection was closed
                    assertArrayEquals(Arrays.copyOf(frame, k), upstreamReads.poll(10, TimeUnit.SECONDS), "k=" + k);

                    CloseEvent event = h.nextEvent();
                    assertEquals(1009, event.code(), "k=" + k);
                    assertEquals(Initiator.PROXY, event.initiator());
                    assertEquals(Cause.FRAME_TOO_BIG, event.cause());
                    assertTrue(event.clean(), "the only endpoint sent a Close answered it; k=" + k);
                    assertEquals(k, event.bytesClientToUpstream());
                    assertEquals(counts(k, frame.length - k + answer.length, 0, 0, 0, 0),
                            Counts.of(h, C2U).minus(c2uBefore), "k=" + k);
                    assertEquals(counts(close.raw().length, 0, 1, 0, 0, 0), Counts.of(h, U2C).minus(u2cBefore),
                            "k=" + k);
                }
            }
        }
    }

    @Test
    void shouldCloseAtOnceWhenTheUpstreamAnswersAfterASplitOversizedHeaderAtEveryOffset() throws Exception {
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(new LimitsConfig(null, null, null, null, 1000L))
                .withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO, Duration.ofSeconds(60), null, null, null)))) {
            // Given an upstream that sends an oversized frame's header in two writes: k bytes,
            // then (once the client has them) the rest, and answers the proxy's Close
            byte[] frame = Frames.unmasked(true, BINARY, new byte[2000]); // 4-byte header
            AtomicInteger split = new AtomicInteger();
            CountDownLatch[] clientGotHead = new CountDownLatch[1];
            LinkedBlockingQueue<Object> upstreamSaw = new LinkedBlockingQueue<>();
            byte[] upstreamAnswer = Frames.unmasked(true, CLOSE, Frames.closeBody(1009, ""));
            h.upstream.script(conn -> {
                conn.accept();
                conn.write(Arrays.copyOf(frame, split.get()));
                clientGotHead[0].await();
                conn.write(Arrays.copyOfRange(frame, split.get(), frame.length));
                WsFrame close = conn.readFrame();
                conn.write(upstreamAnswer);
                upstreamSaw.add(close.raw());
                upstreamSaw.add(conn.input().read()); // -1 once the proxy closed it
            });
            for (int k = 1; k < 4; k++) {
                h.clear();
                split.set(k);
                clientGotHead[0] = new CountDownLatch(1);
                Counts c2uBefore = Counts.of(h, C2U);
                Counts u2cBefore = Counts.of(h, U2C);
                try (RawClient client = RawClient.open(h.port(), "/")) {
                    // When the client has the first k bytes
                    assertArrayEquals(Arrays.copyOf(frame, k), client.readBytes(k), "k=" + k);
                    clientGotHead[0].countDown();

                    // Then the client's connection is closed with nothing more
                    assertArrayEquals(new byte[0], readUntilFin(client), "k=" + k);
                    // and the upstream gets a masked Close 1009, answers, and is closed at once
                    byte[] close = (byte[]) upstreamSaw.poll(10, TimeUnit.SECONDS);
                    assertEquals(21, close.length, "k=" + k);
                    assertEquals(-1, upstreamSaw.poll(10, TimeUnit.SECONDS), "k=" + k);

                    CloseEvent event = h.nextEvent();
                    assertEquals(1009, event.code());
                    assertEquals(Cause.FRAME_TOO_BIG, event.cause());
                    assertTrue(event.clean(), "k=" + k);
                    assertEquals(1009, event.answerCode());
                    assertEquals(k, event.bytesUpstreamToClient());
                    assertEquals(counts(21, 0, 1, 0, 0, 0), Counts.of(h, C2U).minus(c2uBefore), "k=" + k);
                    assertEquals(counts(k, frame.length - k + upstreamAnswer.length, 0, 0, 0, 0),
                            Counts.of(h, U2C).minus(u2cBefore), "k=" + k);
                }
            }
        }
    }
}
