package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.testing.ChildJvm;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

    @Test
    void shouldReloadTheConfigurationOnSighupWithoutDroppingTheOpenSession() throws Exception {
        // Given closewatch running as its own process with --config, one route
        try (RawUpstream first = new RawUpstream(); RawUpstream chat = new RawUpstream()) {
            int port = ChildJvm.freePort();
            Path file = dir.resolve("closewatch.yaml");
            Files.writeString(file, config(port, first.port(), ""));
            try (ChildJvm proxy = ChildJvm.closewatch(List.of(), "run", "--config", file.toString())) {
                proxy.awaitOutput("event=\"config.reload.ready\"", Duration.ofSeconds(20));
                try (RawClient before = RawClient.open(port, "/chat")) {
                    echo(before, "before");
                    // When a route for /chat is added to the file and SIGHUP arrives
                    Files.writeString(file, config(port, first.port(), """
                              - name: chat
                                path_prefix: /chat
                                upstream: ws://127.0.0.1:%d
                            """.formatted(chat.port())));
                    proxy.signal("HUP");
                    // Then the reload is logged
                    proxy.awaitOutput("event=\"config.reload\" trigger=\"sighup\" result=\"success\"", Duration.ofSeconds(10));
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
                    proxy.signal("HUP");
                    // Then the refusal is logged with check-config's message, and the process runs on
                    proxy.awaitOutput("event=\"config.reload\" trigger=\"sighup\" result=\"failure\"", Duration.ofSeconds(10));
                    proxy.awaitOutput("routes: [] (expected: at least one route", Duration.ofSeconds(10));
                    assertTrue(proxy.process().isAlive());
                    echo(before, "still open");
                }
            }
        }
    }
}
