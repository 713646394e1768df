package dev.closewatch.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's idle-cutting intermediary over real loopback sockets. */
class IdleCutRelayTest {

    @Test
    void shouldRelayBytesBothWaysThenCutBothConnectionsWhenIdle() throws Exception {
        // Given a peer behind a relay with a 1 s idle timeout
        try (ServerSocket peer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             IdleCutRelay relay = IdleCutRelay.start(
                     new InetSocketAddress("127.0.0.1", peer.getLocalPort()), Duration.ofSeconds(1));
             Socket client = new Socket("127.0.0.1", relay.address().getPort())) {
            client.setSoTimeout(10_000);
            // When bytes go both ways
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            try (Socket upstream = peer.accept()) {
                upstream.setSoTimeout(10_000);
                assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), upstream.getInputStream().readNBytes(5));
                upstream.getOutputStream().write("world".getBytes(StandardCharsets.US_ASCII));
                assertArrayEquals("world".getBytes(StandardCharsets.US_ASCII), client.getInputStream().readNBytes(5));
                long quietFrom = System.nanoTime();
                // Then, with nothing more either way, both connections end with no more bytes
                assertEquals(-1, read(client.getInputStream()));
                long quiet = System.nanoTime() - quietFrom;
                assertEquals(-1, read(upstream.getInputStream()));
                assertTrue(quiet >= Duration.ofMillis(900).toNanos(), "cut after " + quiet / 1_000_000 + " ms");
                assertEquals(1, relay.cuts());
            }
        }
    }

    @Test
    void shouldRefuseANonPositiveTimeout() {
        // Given a timeout of 0, When starting, Then refused with what was expected
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> IdleCutRelay.start(new InetSocketAddress("127.0.0.1", 9), Duration.ZERO));
        assertEquals("idleTimeout: PT0S (expected: > 0)", e.getMessage());
    }

    @Test
    void shouldLeaveNoEventLoopThreadWhenTheAddressIsTaken() throws Exception {
        // Given a loopback port that is taken, and the event loop threads alive now
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Set<Thread> before = Thread.getAllStackTraces().keySet();

            // When the demo upstream is started on it
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> EchoUpstream.start(new InetSocketAddress("127.0.0.1", taken.getLocalPort())));

            // Then the bind error comes through, and the event loop thread it started is gone
            assertEquals(BindException.class, e.getClass());
            List<String> left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("multiThreadIoEventLoopGroup"))
                    .map(Thread::getName).toList();
            assertEquals(List.of(), left);
        }
    }

    private static int read(InputStream in) throws java.io.IOException {
        try {
            return in.read();
        } catch (java.net.SocketException reset) {
            return -1; // a reset ends it as well
        }
    }
}
