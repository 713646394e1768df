package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.testing.ChildJvm;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code closewatch run} as a real process: SIGTERM (or SIGINT) during a live session drains it —
 * the client receives Close 1012 and the upstream a valid masked Close 1012 — and the process
 * chooses its exit code: 0 when every session closed in time, 3 when one had to be cut.
 */
class SigtermDrainTest {

    /**
     * {@code closewatch run} as its own process on {@code port}, in front of {@code upstreamPort},
     * with short drain settings, once it listens.
     */
    private static ChildJvm proxy(Path dir, int port, int upstreamPort) throws Exception {
        Path config = dir.resolve("closewatch.yaml");
        Files.writeString(config, "drain: {unready_delay: 200ms, spread: 200ms, timeout: 1s}\n");
        ChildJvm child = ChildJvm.closewatch(List.of(), "run", "--config", config.toString(),
                "--listen", "127.0.0.1:" + port, "--admin", "127.0.0.1:0", "--upstream", "ws://127.0.0.1:" + upstreamPort);
        try {
            child.awaitOutput("closewatch proxy listening", Duration.ofSeconds(20));
        } catch (Throwable notListening) {
            child.close();
            throw notListening;
        }
        return child;
    }

    @Test
    void shouldDrainLiveSessionsOnSigtermAndExitZero(@TempDir Path dir) throws Exception {
        // Given closewatch running as its own process in front of a raw upstream
        int port = ChildJvm.freePort();
        try (RawUpstream upstream = new RawUpstream(); ChildJvm proxy = proxy(dir, port, upstream.port())) {
            try (RawClient client = RawClient.open(port, "/")) {
                client.send(true, Frames.TEXT, "hi".getBytes(StandardCharsets.UTF_8));
                client.readFrame();
                // When SIGTERM arrives
                proxy.sigterm();
                // Then the client receives Close 1012 Service Restart and answers it
                WsFrame close = client.readFrame();
                assertEquals(Frames.CLOSE, close.opcode());
                assertEquals(1012, close.closeCode());
                client.send(true, Frames.CLOSE, close.payload());
                assertTrue(client.peerClosed());
            }
            // and the upstream received a masked Close 1012 after the text frame
            RawUpstream.Connection up = upstream.connections().peek();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> up.framesRead().size() == 2);
            WsFrame toUpstream = up.framesRead().get(1);
            assertEquals(1012, toUpstream.closeCode());
            assertEquals(0x80, toUpstream.raw()[1] & 0x80, "masked, as a client's frames must be (RFC 6455 §5.3)");
            // and the process exits 0: drained, nothing cut
            assertEquals(0, proxy.exitCode(), proxy.output());
            assertTrue(proxy.output().contains("event=\"proxy.drain.done\" drained=\"1\" cut=\"0\""), proxy.output());
        }
    }

    @Test
    void shouldExitThreeWhenASessionHadToBeCut(@TempDir Path dir) throws Exception {
        // Given a live session whose client will never answer the drain's Close
        int port = ChildJvm.freePort();
        try (RawUpstream upstream = new RawUpstream(); ChildJvm proxy = proxy(dir, port, upstream.port());
             RawClient client = RawClient.open(port, "/")) {
            client.send(true, Frames.TEXT, "hi".getBytes(StandardCharsets.UTF_8));
            client.readFrame();
            // When SIGTERM arrives
            proxy.sigterm();
            // Then the client gets its Close, does not answer, and is cut at drain.timeout
            assertEquals(1012, client.readFrame().closeCode());
            assertTrue(client.peerClosed());
            // and the process exits 3
            assertEquals(3, proxy.exitCode(), proxy.output());
            assertTrue(proxy.output().contains("event=\"proxy.drain.done\" drained=\"0\" cut=\"1\""), proxy.output());
        }
    }

    @Test
    void shouldDrainOnSigintToo(@TempDir Path dir) throws Exception {
        // Given closewatch running as its own process with no session
        try (RawUpstream upstream = new RawUpstream(); ChildJvm proxy = proxy(dir, ChildJvm.freePort(), upstream.port())) {
            // When SIGINT arrives (Ctrl-C)
            proxy.signal("INT");
            // Then it drains and exits 0
            assertEquals(0, proxy.exitCode(), proxy.output());
            assertTrue(proxy.output().contains("event=\"proxy.signal\" signal=\"SIGINT\""), proxy.output());
        }
    }
}
