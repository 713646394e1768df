package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.BINARY;
import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.CONTINUATION;
import static dev.closewatch.testing.Frames.PING;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.Initiator;
import io.netty.channel.epoll.Epoll;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The zero-copy relay of big frames ({@code splice(2)} on epoll, see {@link RelayHandler}) over
 * loopback: bytes arrive unchanged and in order, counts stay exact, frames of the proxy's own wait
 * for a spliced frame's end, and back-pressure holds while splices wait for a full socket.
 */
class SpliceRelayTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @BeforeAll
    static void onEpoll() {
        assumeTrue(Epoll.isAvailable() && !"nio".equals(System.getProperty("closewatch.transport")),
                "splice needs the epoll transport");
    }

    @Test
    void shouldRelayBigFramesByteForByteWhileSplicingTheirPayloads() throws Exception {
        // Given an echoing upstream
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(RawUpstream.Connection::echoUntilClose);
            Random random = new Random(6455);
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            List<WsFrame> echoed = new ArrayList<>();
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client sends big frames mixed with small ones and a fragmented message
                sent.write(client.send(true, BINARY, bytes(random, 300 * 1024)));
                sent.write(client.send(true, TEXT, "é".repeat(40_000).getBytes(StandardCharsets.UTF_8)));
                sent.write(client.send(false, BINARY, bytes(random, 100 * 1024)));
                sent.write(client.send(true, PING, "mid-message".getBytes(StandardCharsets.UTF_8)));
                sent.write(client.send(true, CONTINUATION, bytes(random, 3 * 1024 * 1024 + 7)));
                sent.write(client.send(true, BINARY, bytes(random, 17)));
                for (int i = 0; i < 6; i++) {
                    echoed.add(client.readFrame());
                }
                long[] spliced = splicedBytes(h);
                client.send(true, CLOSE, Frames.closeBody(1000, "done"));
                WsFrame close = client.readFrame();
                assertEquals(1000, close.closeCode());

                // Then the payloads were spliced in both directions
                assertTrue(spliced[0] > 3 * 1024 * 1024, "client-to-upstream bytes spliced: " + spliced[0]);
                assertTrue(spliced[1] > 3 * 1024 * 1024, "upstream-to-client bytes spliced: " + spliced[1]);
            }
            // and the upstream read exactly the client's bytes, the client exactly the upstream's
            CloseEvent event = h.nextEvent();
            RawUpstream.Connection up = h.upstream.connections().peek();
            ByteArrayOutputStream atUpstream = new ByteArrayOutputStream();
            List<WsFrame> upFrames = up.framesRead();
            for (int i = 0; i < 6; i++) {
                atUpstream.write(upFrames.get(i).raw());
            }
            assertArrayEquals(sent.toByteArray(), atUpstream.toByteArray());
            ByteArrayOutputStream expectedEcho = new ByteArrayOutputStream();
            ByteArrayOutputStream gotEcho = new ByteArrayOutputStream();
            for (int i = 0; i < 6; i++) {
                WsFrame f = upFrames.get(i);
                expectedEcho.write(Frames.unmasked(f.fin(), f.opcode() == PING ? 0xA : f.opcode(), f.payload()));
                gotEcho.write(echoed.get(i).raw());
            }
            assertArrayEquals(expectedEcho.toByteArray(), gotEcho.toByteArray());
            // and the session, its Close and its counts are exact
            assertEquals(1000, event.code());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertTrue(event.clean());
            long closeFrameBytes = Frames.masked(true, CLOSE, Frames.closeBody(1000, "done")).length;
            long upstreamCloseBytes = Frames.unmasked(true, CLOSE, Frames.closeBody(1000, "done")).length;
            assertEquals(sent.size() + closeFrameBytes,
                    h.count("closewatch.bytes", "route", "default", "direction", "client_to_upstream"));
            assertEquals(gotEcho.size() + upstreamCloseBytes,
                    h.count("closewatch.bytes", "route", "default", "direction", "upstream_to_client"));
            assertEquals(3.0, h.count("closewatch.frames", "route", "default", "direction", "client_to_upstream",
                    "opcode", "binary"));
            assertEquals(1.0, h.count("closewatch.frames", "route", "default", "direction", "client_to_upstream",
                    "opcode", "continuation"));
            assertEquals(1.0, h.count("closewatch.frames", "route", "default", "direction", "upstream_to_client",
                    "opcode", "text"));
            assertEquals(0.0, h.count("closewatch.protocol.violations", "route", "default"));
            assertTrue(h.upstream.errors().isEmpty(), () -> h.upstream.errors().toString());
        }
    }

    @Test
    void shouldInjectTheDrainCloseOnlyAfterASplicedFrameEnds() throws Exception {
        // Given a client in the middle of a 2 MiB frame whose payload is being spliced
        try (ProxyHarness h = ProxyHarness.start()) {
            RawClient client = RawClient.open(h.port(), "/");
            byte[] frame = Frames.masked(true, BINARY, bytes(new Random(1), 2 * 1024 * 1024));
            int head = 100 * 1024;
            client.write(Arrays.copyOf(frame, head));
            await().atMost(WAIT).until(() -> splicedBytes(h)[0] > 0);
            // When the proxy drains
            h.app.proxy().drain();
            // Then the client gets Close 1012 at once
            WsFrame close = client.readFrame();
            assertEquals(1012, close.closeCode());
            // and the upstream gets the whole frame first, then its Close
            client.write(Arrays.copyOfRange(frame, head, frame.length));
            client.send(true, CLOSE, close.payload());
            assertTrue(client.peerClosed(), "closed once both endpoints answered");
            client.close();
            CloseEvent event = h.nextEvent();
            assertEquals(1012, event.code());
            assertEquals(Cause.DRAIN, event.cause());
            assertTrue(event.clean());
            RawUpstream.Connection up = h.upstream.connections().peek();
            assertArrayEquals(frame, up.framesRead().get(0).raw());
            assertEquals(1012, up.framesRead().get(1).closeCode());
            assertEquals(0x80, up.framesRead().get(1).raw()[1] & 0x80, "the proxy's Close is masked toward the upstream");
        }
    }

    @Test
    void shouldHoldBackPressureWhileSplicesWaitForASlowReader() throws Exception {
        // Given an upstream that does not read until told to
        CountDownLatch startReading = new CountDownLatch(1);
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(conn -> {
                conn.accept();
                startReading.await();
                conn.echoUntilCloseAfterAccept();
            });
            Random random = new Random(7);
            List<byte[]> frames = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                frames.add(Frames.masked(true, BINARY, bytes(random, 1024 * 1024 + i)));
            }
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When the client writes 12 MiB of big frames, more than the sockets and the
                // proxy's write buffer hold, from a thread of its own
                AtomicLong written = new AtomicLong();
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        for (byte[] f : frames) {
                            client.write(f);
                            written.addAndGet(f.length);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                await().atMost(WAIT).until(() -> splicedBytes(h)[0] > 0);
                // and the upstream starts reading only then
                startReading.countDown();
                writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                // Then every frame comes back whole and in order
                for (int i = 0; i < frames.size(); i++) {
                    WsFrame echo = client.readFrame();
                    assertEquals(1024 * 1024 + i, echo.payload().length);
                    assertArrayEquals(h.upstream.connections().peek().framesRead().get(i).payload(), echo.payload());
                    assertArrayEquals(frames.get(i), h.upstream.connections().peek().framesRead().get(i).raw());
                }
                client.send(true, CLOSE, Frames.closeBody(1000, ""));
                assertEquals(1000, client.readFrame().closeCode());
            }
            assertEquals(1000, h.nextEvent().code());
            assertTrue(h.upstream.errors().isEmpty(), () -> h.upstream.errors().toString());
        }
    }

    /** Spliced bytes of the only open session: [client→upstream, upstream→client]. */
    private static long[] splicedBytes(ProxyHarness h) throws Exception {
        var open = h.app.proxy().sessionControls().iterator();
        if (!open.hasNext()) {
            return new long[] {0, 0};
        }
        SessionControl control = open.next();
        return control.clientChannel().eventLoop().submit(() -> new long[] {
                control.splicedBytes(Direction.CLIENT_TO_UPSTREAM), control.splicedBytes(Direction.UPSTREAM_TO_CLIENT)})
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
