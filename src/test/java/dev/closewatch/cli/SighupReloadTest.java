package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.testing.Frames;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code closewatch run --config FILE} as a real process: SIGHUP re-reads the file — a route
 * added to it serves the next connection — while an open session keeps relaying, and the process
 * keeps running; a broken file on the next SIGHUP is logged and changes nothing.
 */
class SighupReloadTest {

    @TempDir
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String config(int port, int defaultUpstream, String extraRoutes) {
        return """
                listen: 127.0.0.1:%d
                admin:
                  listen: 127.0.0.1:0
                routes:
                  - name: default
                    path_prefix: /
                    upstream: ws://127.0.0.1:%d
                %s""".formatted(port, defaultUpstream, extraRoutes);
    }

    private static void echo(RawClient client, String text) throws IOException {
        client.send(true, Frames.TEXT, text.getBytes(StandardCharsets.UTF_8));
        WsFrame answer = client.readFrame();
        assertEquals(text, new String(answer.payload(), StandardCharsets.UTF_8));
    }

    private static void hangUp(Process proxy) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(proxy.pid())).start();
        assertEquals(0, kill.waitFor());
    }

    @Test
    void shouldReloadTheConfigurationOnSighupWithoutDroppingTheOpenSession() throws Exception {
        // Given closewatch running as its own process with --config, one route
        try (RawUpstream first = new RawUpstream(); RawUpstream chat = new RawUpstream()) {
            int port = freePort();
            Path file = dir.resolve("closewatch.yaml");
            Files.writeString(file, config(port, first.port(), ""));
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process proxy = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                    "dev.closewatch.cli.CloseWatchCommand", "run", "--config", file.toString()))
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
                        return output.toString().contains("event=\"config.reload.ready\"");
                    }
                });
                try (RawClient before = RawClient.open(port, "/chat")) {
                    echo(before, "before");
                    // When a route for /chat is added to the file and SIGHUP arrives
                    Files.writeString(file, config(port, first.port(), """
                              - name: chat
                                path_prefix: /chat
                                upstream: ws://127.0.0.1:%d
                            """.formatted(chat.port())));
                    hangUp(proxy);
                    // Then the reload is logged
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
                        synchronized (output) {
                            return output.toString().contains("event=\"config.reload\" trigger=\"sighup\" result=\"success\"");
                        }
                    });
                    // and a new connection to /chat reaches the new route's upstream
                    try (RawClient after = RawClient.open(port, "/chat")) {
                        assertEquals(101, after.response().status());
                        echo(after, "on chat");
                        assertEquals(1, chat.connections().size());
                    }
                    // and the open session still relays through the first upstream
                    echo(before, "after");
                    assertEquals(1, first.connections().size());
                    // When the file breaks and SIGHUP arrives again
                    Files.writeString(file, "routes: []\n");
                    hangUp(proxy);
                    // Then the refusal is logged with check-config's message, and the process runs on
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
                        synchronized (output) {
                            return output.toString().contains("event=\"config.reload\" trigger=\"sighup\" result=\"failure\"")
                                    && output.toString().contains("routes: [] (expected: at least one route");
                        }
                    });
                    assertTrue(proxy.isAlive());
                    echo(before, "still open");
                }
            } finally {
                proxy.destroy();
                proxy.waitFor(20, TimeUnit.SECONDS);
                proxy.destroyForcibly();
                reader.join(5000);
            }
        }
    }
}
