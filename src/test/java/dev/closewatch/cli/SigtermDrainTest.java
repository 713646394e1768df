package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.testing.Frames;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * {@code closewatch run} as a real process: SIGTERM during a live session drains it — the client
 * receives Close 1012 and the upstream a valid masked Close 1012 — and the process exits 0.
 */
class SigtermDrainTest {

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void shouldDrainLiveSessionsOnSigterm() throws Exception {
        // Given closewatch running as its own process in front of a raw upstream
        try (RawUpstream upstream = new RawUpstream()) {
            int port = freePort();
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process proxy = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                    "dev.closewatch.cli.CloseWatchCommand", "run", "--listen", "127.0.0.1:" + port,
                    "--admin", "127.0.0.1:0", "--upstream", "ws://127.0.0.1:" + upstream.port()))
                    .redirectErrorStream(true).start();
            StringBuilder output = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(proxy.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        synchronized (output) {
                            output.append(line).append('\n');
                        }
                    }
                } catch (Exception ignored) {
                    // the process ended
                }
            });
            reader.start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
                    synchronized (output) {
                        return output.toString().contains("closewatch proxy listening");
                    }
                });
                try (RawClient client = RawClient.open(port, "/")) {
                    client.send(true, Frames.TEXT, "hi".getBytes(StandardCharsets.UTF_8));
                    client.readFrame();
                    // When SIGTERM arrives
                    proxy.destroy();
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
                assertTrue(proxy.waitFor(20, TimeUnit.SECONDS), "the proxy exits after the drain");
                assertEquals(143, proxy.exitValue(), "terminated by SIGTERM after a clean shutdown hook");
            } finally {
                proxy.destroyForcibly();
                reader.join(5000);
            }
        }
    }
}
