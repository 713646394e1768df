package dev.closewatch.cli;

import static dev.closewatch.testing.ProxyHarness.kv;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import dev.closewatch.websocket.CloseEvent;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Live reload end to end over loopback: {@code POST /admin/reload} (and {@link ConfigReloader}
 * as SIGHUP calls it) re-reads the configuration file; new connections get the new routes and
 * codes, open sessions keep relaying with the settings they started with, an invalid file is
 * refused with the {@code check-config} messages and the old configuration keeps serving.
 */
class ConfigReloadTest {

    @TempDir
    Path dir;

    private Path file;
    private ProxyHarness harness;
    private ConfigReloader reloader;
    private final ListAppender<ILoggingEvent> reloadLog = new ListAppender<>();
    private final Logger reloadLogger = (Logger) LoggerFactory.getLogger(ConfigReloader.class);

    private static String config(String upstream, String remedy, String extraRoutes) {
        return """
                listen: 127.0.0.1:0
                admin:
                  listen: 127.0.0.1:0
                upstream:
                  connect_timeout: 2s
                  response_timeout: 5s
                routes:
                  - name: default
                    path_prefix: /
                    upstream: %s
                %s
                codes:
                  - code: 4001
                    name: Token Expired
                    remedy: %s
                """.formatted(upstream, extraRoutes, remedy);
    }

    @BeforeEach
    void start() throws Exception {
        file = dir.resolve("closewatch.yaml");
        harness = ProxyHarness.start(c -> {
            try {
                Files.writeString(file, config(c.routes().get(0).upstream(), "Refresh the token.", ""));
                return new ConfigLoader().load(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (ConfigException e) {
                throw new IllegalStateException(e);
            }
        });
        reloader = harness.app.enableReload(file, c -> c);
        reloadLog.start();
        reloadLogger.addAppender(reloadLog);
    }

    @AfterEach
    void stop() throws Exception {
        reloadLogger.detachAppender(reloadLog);
        harness.close();
    }

    private String upstreamUri() {
        return "ws://127.0.0.1:" + harness.upstream.port();
    }

    private HttpResponse<String> postReload() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + harness.adminPort() + "/admin/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private double reloads(String result) {
        return harness.count("closewatch.config.reloads", "result", result);
    }

    private static void echo(RawClient client, String text) throws IOException {
        client.send(true, Frames.TEXT, text.getBytes(StandardCharsets.UTF_8));
        WsFrame answer = client.readFrame();
        assertEquals(Frames.TEXT, answer.opcode());
        assertEquals(text, new String(answer.payload(), StandardCharsets.UTF_8));
    }

    /** The client closes with {@code code}, the upstream echoes the Close; returns the close event. */
    private CloseEvent closeWith(RawClient client, int code) throws Exception {
        client.send(true, Frames.CLOSE, Frames.closeBody(code, "bye"));
        assertEquals(code, client.readFrame().closeCode());
        assertTrue(client.peerClosed());
        return harness.nextEvent();
    }

    @Test
    void shouldKeepAnOpenSessionRelayingAndLogTheNewRemedyForSessionsOpenedAfterTheReload() throws Exception {
        // Given a session open under the first configuration (4001's remedy "Refresh the token.")
        try (RawClient before = RawClient.open(harness.port(), "/")) {
            assertEquals(101, before.response().status());
            echo(before, "before the reload");
            // When the file changes 4001's remedy and POST /admin/reload applies it
            Files.writeString(file, config(upstreamUri(), "Ask the user to sign in again.", ""));
            HttpResponse<String> response = postReload();
            // Then the reload is applied
            assertEquals(200, response.statusCode(), response.body());
            assertTrue(response.body().startsWith("reloaded " + file + ": 1 route(s), 1 custom code(s); new connections"
                    + " use it, 1 open session(s) keep the settings they started with\n"), response.body());
            assertEquals(1.0, reloads("success"));
            assertEquals(0.0, reloads("failure"));
            // and the open session keeps relaying, and ends with the remedy it started with
            echo(before, "after the reload");
            CloseEvent oldEnd = closeWith(before, 4001);
            assertEquals("Refresh the token.", kv(harness.logLine(oldEnd.sessionId()), "remedy"));
        }
        // and a session opened after the reload is logged with the new remedy
        try (RawClient after = RawClient.open(harness.port(), "/")) {
            echo(after, "new session");
            CloseEvent newEnd = closeWith(after, 4001);
            assertEquals("Ask the user to sign in again.", kv(harness.logLine(newEnd.sessionId()), "remedy"));
            assertEquals("Ask the user to sign in again.", newEnd.classification().remedy());
        }
        // and closewatch_close_code_info carries only the new remedy for 4001
        List<Gauge> info = List.copyOf(harness.app.registry().find("closewatch.close.code.info").tag("code", "4001").gauges());
        assertEquals(1, info.size());
        assertEquals("Ask the user to sign in again.", info.get(0).getId().getTag("remedy"));
        // and /api/codes lists the new one
        assertTrue(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + harness.adminPort() + "/api/codes")).build(),
                HttpResponse.BodyHandlers.ofString()).body().contains("Ask the user to sign in again."));
        ILoggingEvent line = reloadLog.list.get(0);
        assertEquals("config.reload", kv(line, "event"));
        assertEquals("admin", kv(line, "trigger"));
        assertEquals("success", kv(line, "result"));
    }

    @Test
    void shouldSendNewConnectionsToAnAddedRouteWhileTheOpenSessionStaysOnItsRoute() throws Exception {
        try (RawUpstream chat = new RawUpstream()) {
            // Given a session on /chat open under the first configuration (route default)
            try (RawClient before = RawClient.open(harness.port(), "/chat")) {
                echo(before, "on default");
                await().atMost(Duration.ofSeconds(5)).until(() -> harness.upstream.connections().size() == 1);
                // When a reload adds a route for /chat to another upstream
                Files.writeString(file, config(upstreamUri(), "Refresh the token.", """
                          - name: chat
                            path_prefix: /chat
                            upstream: ws://127.0.0.1:%d
                        """.formatted(chat.port())));
                ConfigReloader.Result result = reloader.reload("sighup");
                assertTrue(result.applied(), result.text());
                assertEquals(List.of(), result.notApplied());
                // Then a new connection to /chat goes to the new route's upstream
                try (RawClient after = RawClient.open(harness.port(), "/chat")) {
                    assertEquals(101, after.response().status());
                    echo(after, "on chat");
                    assertEquals(1, chat.connections().size());
                    assertEquals("chat", closeWith(after, 1000).route());
                }
                // and the open session is untouched: same upstream connection, same route
                echo(before, "still on default");
                assertEquals(1, harness.upstream.connections().size());
                assertEquals("default", closeWith(before, 1000).route());
            }
            assertEquals(1.0, harness.count("closewatch.sessions.opened", "route", "chat"));
            assertEquals(List.of(), chat.errors().stream().toList());
        }
    }

    @Test
    void shouldRefuseAnInvalidFileWithTheCheckConfigMessagesAndKeepServingTheOldRoutes() throws Exception {
        // Given a file with two validation errors
        double lastSuccess = harness.app.registry().find("closewatch.config.last.reload.success.timestamp.seconds")
                .gauge().value();
        Files.writeString(file, config(upstreamUri(), "Refresh the token.", """
                  - name: default
                    path_prefix: chat
                    upstream: ws://127.0.0.1:1
                """));
        ConfigLoader.Loaded loaded = new ConfigLoader().readAll(file);
        List<String> errors = loaded.problems(loaded.config());
        assertEquals(List.of("line 11: routes[1].name: 'default' (expected: a name no other route has)",
                "line 12: routes[1].path_prefix: 'chat' (expected: a path starting with /)"), errors);
        String checkConfig = new ConfigException(file.toString(), errors).getMessage();
        // When POST /admin/reload reads it
        HttpResponse<String> response = postReload();
        // Then it is refused with check-config's very messages
        assertEquals(422, response.statusCode());
        assertEquals("reload refused, the running configuration stays: " + checkConfig + "\n", response.body());
        assertEquals(1.0, reloads("failure"));
        assertEquals(0.0, reloads("success"));
        assertEquals(lastSuccess, harness.app.registry().find("closewatch.config.last.reload.success.timestamp.seconds")
                .gauge().value());
        ILoggingEvent line = reloadLog.list.get(0);
        assertEquals("config.reload", kv(line, "event"));
        assertEquals("failure", kv(line, "result"));
        assertEquals(String.join("; ", errors), kv(line, "errors"));
        // and a YAML error (as SIGHUP meets it) is refused the same way
        Files.writeString(file, "routes: [\n");
        ConfigReloader.Result yaml = reloader.reload("sighup");
        assertFalse(yaml.applied());
        ConfigException expected = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> new ConfigLoader().read(file));
        assertEquals(expected.errors(), yaml.messages());
        assertEquals(2.0, reloads("failure"));
        // and the old routes still serve
        try (RawClient client = RawClient.open(harness.port(), "/chat")) {
            assertEquals(101, client.response().status());
            echo(client, "still served");
            CloseEvent end = closeWith(client, 1000);
            assertEquals("default", end.route());
        }
    }

    @Test
    void shouldApplyTheRestAndReportListenAndAdminChangesAsNeedingARestart() throws Exception {
        // Given a file that also moves the listener and the admin server
        Files.writeString(file, config(upstreamUri(), "Refresh the token.", "")
                .replace("listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0", "listen: 127.0.0.1:18080\nadmin:\n  listen: 127.0.0.1:18081"));
        // When it is reloaded
        HttpResponse<String> response = postReload();
        // Then the rest is applied and the two keys are named as not applied
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().endsWith("\n  not applied (needs a restart): listen: '127.0.0.1:18080' (in use: '127.0.0.1:0')\n"
                + "  not applied (needs a restart): admin.listen: '127.0.0.1:18081' (in use: '127.0.0.1:0')\n"), response.body());
        assertEquals("listen: '127.0.0.1:18080' (in use: '127.0.0.1:0'); admin.listen: '127.0.0.1:18081' (in use: '127.0.0.1:0')",
                kv(reloadLog.list.get(0), "not_applied"));
        // and the proxy still listens where it did
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            assertEquals(101, client.response().status());
            closeWith(client, 1000);
        }
    }

    @Test
    void shouldApplyReloadedLogSettingsToTheNextCloseLine() throws Exception {
        // Given normal ends logged at DEBUG (the default)
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            CloseEvent end = closeWith(client, 1000);
            assertEquals(ch.qos.logback.classic.Level.DEBUG, harness.logLine(end.sessionId()).getLevel());
        }
        // When a reload sets log.normal_level: info
        Files.writeString(file, config(upstreamUri(), "Refresh the token.", "") + "log:\n  normal_level: info\n");
        assertTrue(reloader.reload("sighup").applied());
        // Then the next normal end is logged at INFO
        try (RawClient client = RawClient.open(harness.port(), "/")) {
            CloseEvent end = closeWith(client, 1000);
            assertEquals(ch.qos.logback.classic.Level.INFO, harness.logLine(end.sessionId()).getLevel());
        }
    }

    @Test
    void shouldAnswer501WithoutAConfigurationFile() throws Exception {
        // Given closewatch started without --config
        try (ProxyHarness plain = ProxyHarness.start()) {
            // When POST /admin/reload arrives
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + plain.adminPort() + "/admin/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            // Then there is nothing to reload
            assertEquals(501, response.statusCode());
            assertEquals("reload: not available (expected: closewatch started with --config FILE)\n", response.body());
            assertEquals(0.0, plain.count("closewatch.config.reloads", "result", "failure"));
        }
    }
}
