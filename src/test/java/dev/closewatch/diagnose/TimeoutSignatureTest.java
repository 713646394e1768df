package dev.closewatch.diagnose;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.config.IntermediaryConfig;
import dev.closewatch.config.RouteConfig;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Timeout signatures from real intermediaries, end to end on 127.0.0.1:
 *
 * <pre>
 * RawClient ──▶ nginx (proxy_read_timeout 3s) ──▶ closewatch ─┬─ route direct ──────────────────────────▶ RawUpstream
 *                                                             └─ route tunnel ─▶ HAProxy (timeout tunnel 2s) ─▶ RawUpstream
 * </pre>
 *
 * Idle sessions on {@code direct} are cut by nginx after 3 s (client leg), those on
 * {@code tunnel} by HAProxy after 2 s (upstream leg, before nginx's 3 s). closewatch reports each
 * signature exactly once, in {@code GET /api/diagnosis}, the WARN line and the gauge, and clears
 * both once the ends leave the (short) window.
 */
class TimeoutSignatureTest {

    private static final int SESSIONS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldReportNginxsAndHaproxysIdleTimeoutsOnceEachAndClearThem(@TempDir Path dir) throws Exception {
        // CI installs both (.ci/run); elsewhere the test is skipped when one is missing.
        Path nginx = executable("nginx");
        Path haproxy = executable("haproxy");
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(nginx != null && haproxy != null, "nginx or haproxy is not installed");
        }
        assertTrue(nginx != null && haproxy != null, "nginx and haproxy must be installed (.ci/run installs them)");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger(SignatureDetector.LOGGER);
        lines.start();
        log.addAppender(lines);
        int haproxyPort = freePort();
        // Given closewatch with min_count 5 and an 8 s window, route "direct" straight to the
        // upstream and route "tunnel" through HAProxy
        try (ProxyHarness h = ProxyHarness.start(c -> c
                .withRoutes(List.of(
                        new RouteConfig("direct", "/direct", null, c.routes().get(0).upstream(), null),
                        new RouteConfig("tunnel", "/tunnel", null, "ws://127.0.0.1:" + haproxyPort, null)))
                .withDiagnosis(new DiagnosisConfig(Duration.ofSeconds(8), SESSIONS, 0.5, null, null, SCALED_DEFAULTS)))) {
            // an upstream that answers 101 and then stays silent until its connection goes
            h.upstream.script(conn -> {
                try {
                    conn.accept();
                } catch (java.io.EOFException probe) {
                    return; // the connection HAProxy opened for the readiness probe below: no request
                }
                conn.readToEnd();
            });
            Process haproxyProcess = startHaproxy(haproxy, dir, haproxyPort, h.upstream.port());
            int nginxPort = freePort();
            Process nginxProcess = startNginx(nginx, dir, nginxPort, h.port());
            List<RawClient> clients = new ArrayList<>();
            try {
                awaitListening(haproxyPort);
                awaitListening(nginxPort);

                // When 5 idle sessions open on each route through nginx
                for (int i = 0; i < SESSIONS; i++) {
                    for (String path : List.of("/direct", "/tunnel")) {
                        RawClient c = RawClient.open(nginxPort, path);
                        assertEquals(101, c.response().status(), path);
                        clients.add(c);
                    }
                }

                // Then every session ends in 1006: direct ones cut on the client leg after ~3 s, tunnel ones on the upstream leg after ~2 s
                List<CloseEvent> ends = new ArrayList<>();
                for (int i = 0; i < 2 * SESSIONS; i++) {
                    ends.add(h.nextEvent());
                }
                for (CloseEvent e : ends) {
                    assertEquals(1006, e.code(), e.toString());
                    boolean direct = e.route().equals("direct");
                    assertEquals(direct ? Initiator.CLIENT : Initiator.UPSTREAM, e.initiator(), e.toString());
                    long idle = e.idle().toMillis();
                    // nginx keeps a timer that is due within 300 ms of the new one (NGX_TIMER_LAZY_DELAY), so it
                    // may cut up to 0.3 s before its 3 s count from the 101
                    assertTrue(direct ? idle >= 2_600 && idle < 3_900 : idle >= 1_900 && idle < 2_900, e.toString());
                }

                // and closewatch reports exactly two idle signatures: 3 s on direct's client leg, 2 s on tunnel's upstream leg
                JsonNode signatures = await().atMost(Duration.ofSeconds(10)).until(
                        () -> diagnosis(h).get("signatures"), s -> s.size() == 2);
                assertSignature(signatures.get(0), "direct", "client", "3", 3.0);
                assertSignature(signatures.get(1), "tunnel", "upstream", "2", 2.0);
                // 3 s and 2 s are no well-known default; the test's config lists the well-known defaults scaled
                // as this test scales the timeouts (1/20: nginx 60 s -> 3 s, HAProxy 50 s -> 2.5 s) as the
                // operator's own intermediaries, and the API names nginx on the client leg, HAProxy on the upstream leg
                assertTrue(culprits(signatures.get(0)).contains("nginx (scaled 1/20)"), signatures.get(0).toString());
                assertTrue(culprits(signatures.get(1)).contains("HAProxy (Debian/Ubuntu packaged haproxy.cfg) (scaled 1/20)"),
                        signatures.get(1).toString());
                assertEquals(5.0, h.app.registry().get("closewatch.diagnosis.signature")
                        .tags("route", "direct", "leg", "client", "kind", "idle", "seconds", "3").gauge().value());
                assertEquals(5.0, h.app.registry().get("closewatch.diagnosis.signature")
                        .tags("route", "tunnel", "leg", "upstream", "kind", "idle", "seconds", "2").gauge().value());
                assertEquals(List.of("appeared direct client", "appeared tunnel upstream"), states(lines));

                // When the intermediaries cut nothing more and the window passes
                // Then both clear, each once, and the gauges go
                await().atMost(Duration.ofSeconds(20)).until(() -> diagnosis(h).get("signatures").isEmpty());
                assertEquals(List.of("appeared direct client", "appeared tunnel upstream", "cleared direct client",
                        "cleared tunnel upstream"), states(lines));
                for (String[] routeLeg : new String[][] {{"direct", "client"}, {"tunnel", "upstream"}}) {
                    assertEquals(0.0, h.app.registry().get("closewatch.diagnosis.signature").tags("route", routeLeg[0],
                            "leg", routeLeg[1], "kind", "idle", "seconds", "none").gauge().value());
                }
                assertEquals(8, h.app.registry().find("closewatch.diagnosis.signature").gauges().size(),
                        "one series per route, leg and kind");
            } finally {
                for (RawClient c : clients) {
                    c.close();
                }
                stop(nginxProcess);
                stop(haproxyProcess);
                log.detachAppender(lines);
            }
            assertTrue(h.upstream.errors().isEmpty(), h.upstream.errors().toString());
        }
    }

    private static void assertSignature(JsonNode s, String route, String leg, String bucket, double seconds) {
        assertEquals(route, s.get("route").asText(), s.toString());
        assertEquals(leg, s.get("leg").asText(), s.toString());
        assertEquals("idle", s.get("kind").asText(), s.toString());
        assertEquals(bucket, s.get("bucket").asText(), s.toString());
        assertEquals(SESSIONS, s.get("count").asInt(), s.toString());
        assertEquals(SESSIONS, s.get("total").asInt(), s.toString());
        double value = s.get("seconds").asDouble();
        assertTrue(value >= seconds - 0.4 && value < seconds + 0.9, s.toString());
    }

    /** The well-known defaults divided by 20, as the operator's own intermediaries. */
    private static final List<IntermediaryConfig> SCALED_DEFAULTS = Intermediaries.loadDefault().all().stream()
            .map(i -> new IntermediaryConfig(i.product() + " (scaled 1/20)", i.setting(), i.defaultValue().dividedBy(20),
                    i.kind().label(), i.source(), null))
            .toList();

    /** The products signature {@code s} names as likely culprits. */
    private static List<String> culprits(JsonNode s) {
        List<String> products = new ArrayList<>();
        s.get("culprits").forEach(c -> products.add(c.get("product").asText()));
        return products;
    }

    /** The diagnosis lines so far, as "state route leg", in order (sorted within one tick's pair). */
    private static List<String> states(ListAppender<ILoggingEvent> lines) {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent l : new ArrayList<>(lines.list)) {
            if (SignatureDetector.EVENT.equals(ProxyHarness.kv(l, "event"))) {
                out.add(ProxyHarness.kv(l, "state") + " " + ProxyHarness.kv(l, "route") + " " + ProxyHarness.kv(l, "leg"));
            }
        }
        // the two routes' signatures may appear (and clear) in either order: compare within each state
        List<String> appeared = out.stream().filter(s -> s.startsWith("appeared")).sorted().toList();
        List<String> cleared = out.stream().filter(s -> s.startsWith("cleared")).sorted().toList();
        List<String> sorted = new ArrayList<>(appeared);
        sorted.addAll(cleared);
        return sorted;
    }

    private static JsonNode diagnosis(ProxyHarness h) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + h.adminPort() + "/api/diagnosis")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static Process startHaproxy(Path haproxy, Path dir, int port, int upstreamPort) throws IOException {
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, String.join("\n",
                "global", "  maxconn 100",
                "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                "  timeout tunnel 2s",
                "frontend in", "  bind 127.0.0.1:" + port, "  default_backend upstream",
                "backend upstream", "  server up 127.0.0.1:" + upstreamPort, ""));
        return new ProcessBuilder(haproxy.toString(), "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
    }

    private static Process startNginx(Path nginx, Path dir, int port, int closewatchPort) throws IOException {
        Path root = dir.resolve("nginx").toAbsolutePath();
        Files.createDirectories(root);
        Path conf = root.resolve("nginx.conf");
        Files.writeString(conf, """
                daemon off;
                master_process on;
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events {
                    worker_connections 64;
                }
                http {
                    access_log off;
                    client_body_temp_path %1$s/client_body;
                    proxy_temp_path %1$s/proxy;
                    fastcgi_temp_path %1$s/fastcgi;
                    uwsgi_temp_path %1$s/uwsgi;
                    scgi_temp_path %1$s/scgi;
                    server {
                        listen 127.0.0.1:%2$d;
                        location / {
                            proxy_pass http://127.0.0.1:%3$d;
                            proxy_http_version 1.1;
                            proxy_set_header Upgrade $http_upgrade;
                            proxy_set_header Connection "upgrade";
                            proxy_set_header Host $host;
                            proxy_read_timeout 3s;
                        }
                    }
                }
                """.formatted(root, port, closewatchPort));
        return new ProcessBuilder(nginx.toString(), "-p", root + "/", "-c", conf.toString(),
                "-e", root.resolve("error.log").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.log").toFile()).start();
    }

    private static void awaitListening(int port) {
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return true;
            }
        });
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    /** {@code name} in the Debian locations (a user's PATH may lack /usr/sbin), or null. */
    private static Path executable(String name) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name);
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
