package dev.closewatch.report;

import static dev.closewatch.testing.CliRun.run;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.config.HostPort;
import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.testing.CliRun;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.WsFrame;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.AdminConfig;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code closewatch report} against two real closewatch instances on 127.0.0.1, each in front of
 * its own raw upstream:
 *
 * <ul>
 *   <li><b>A</b>: an upstream that cuts every connection (FIN, no Close frame) 2 s after its
 *       101, like an upstream-side idle timeout; three clients ({@code ?device=d1..d3}) reconnect
 *       a fixed 1.25 s after each cut, three rounds: nine 1006s from the upstream, an idle signature of
 *       2 s on the upstream leg, and three keys in a reconnect storm ({@code storm_after} 2);
 *       then two clean 1000s from clients;</li>
 *   <li><b>B</b>: three clean 1000s from clients and one 1011 the upstream sends.</li>
 * </ul>
 *
 * The report merges them (exact counts, the signature with its evidence, storms, back-off, top
 * offenders), {@code --json} says the same and validates against docs/report.schema.json, and an
 * instance that does not answer is named with exit code 4 (all down: 1).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReportEndToEndTest {

    private static final Duration CUT_AFTER = Duration.ofSeconds(2);
    /**
     * Over 1 s with a margin: closewatch counts the delay from its own record of the client
     * connection's end, which a busy event loop stamps a few milliseconds after the client saw it.
     */
    private static final Duration RETRY_AFTER = Duration.ofMillis(1250);
    private static final int DEVICES = 3;
    private static final int ROUNDS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ProxyHarness a;
    private ProxyHarness b;
    private ScheduledExecutorService cutter;
    private ScheduledExecutorService retry;

    @BeforeAll
    void traffic() throws Exception {
        UnaryOperator<CloseWatchConfig> config = c -> c
                .withReconnect(new ReconnectConfig("query:device", null, null, 2))
                .withDiagnosis(new DiagnosisConfig(Duration.ofMinutes(1), 5, 0.5, null, null));
        a = ProxyHarness.start(config);
        b = ProxyHarness.start(config);
        cutter = Executors.newSingleThreadScheduledExecutor();
        retry = Executors.newScheduledThreadPool(2 * DEVICES);

        // A: an upstream that answers 101, stays silent and closes its connection 2 s later
        a.upstream.script(conn -> {
            conn.accept();
            cutter.schedule(() -> {
                conn.close();
                return null;
            }, CUT_AFTER.toMillis(), TimeUnit.MILLISECONDS);
            conn.readToEnd();
        });
        // each device retries a fixed 1.25 s after each cut: delays that never grow (that needs 1.5 times the
        // previous one), whatever the scheduling jitter of a loaded machine
        List<CompletableFuture<Void>> devices = new ArrayList<>();
        for (int d = 1; d <= DEVICES; d++) {
            String path = "/chat?device=d" + d;
            devices.add(CompletableFuture.runAsync(() -> {
                try {
                    RawClient c = open(a, path);
                    for (int round = 1; round <= ROUNDS; round++) {
                        assertTrue(c.peerClosed(), "closewatch closes the client when the upstream cuts");
                        c.close();
                        if (round < ROUNDS) {
                            c = retry.schedule(() -> open(a, path), RETRY_AFTER.toMillis(), TimeUnit.MILLISECONDS).get();
                        }
                    }
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, retry));
        }
        CompletableFuture.allOf(devices.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        a.upstream.script(conn -> conn.echoUntilClose());
        for (int i = 0; i < 2; i++) {
            closeCleanly(open(a, "/chat"), 1000);
        }

        // B: three clean closes from clients, one 1011 from the upstream
        b.upstream.script(conn -> {
            conn.accept();
            WsFrame f = conn.readFrame();
            if (f.opcode() == Frames.TEXT) {
                conn.send(true, Frames.CLOSE, Frames.closeBody(1011, "boom"));
                conn.readFrame();
            } else {
                conn.send(true, Frames.CLOSE, f.payload());
            }
        });
        for (int i = 0; i < 3; i++) {
            closeCleanly(open(b, "/chat"), 1000);
        }
        RawClient failing = open(b, "/chat");
        failing.send(true, Frames.TEXT, "fail".getBytes(StandardCharsets.UTF_8));
        WsFrame close = failing.readFrame();
        assertEquals(Frames.CLOSE, close.opcode());
        failing.send(true, Frames.CLOSE, close.payload());
        assertTrue(failing.peerClosed());
        failing.close();

        // every end recorded, and A's signature grown to all nine cuts
        await().atMost(Duration.ofSeconds(10)).until(() -> a.app.recentCloses().recorded() == DEVICES * ROUNDS + 2
                && b.app.recentCloses().recorded() == 4);
        AdminClient client = new AdminClient(Duration.ofSeconds(5), null);
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                JsonNode s = client.get(new HostPort("127.0.0.1", a.adminPort()), "/api/diagnosis").path("signatures");
                return s.size() == 1 && s.get(0).path("count").asInt() == DEVICES * ROUNDS;
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no signature of all nine cuts: " + client.get(new HostPort("127.0.0.1", a.adminPort()),
                    "/api/diagnosis") + "; idle times (ms): " + a.pendingEvents().stream().map(x -> x.code() + "/"
                    + x.idle().toMillis()).toList(), e);
        }
    }

    @AfterAll
    void stop() throws Exception {
        try (ProxyHarness x = a; ProxyHarness y = b) {
            cutter.shutdownNow();
            retry.shutdownNow();
        }
    }

    @Test
    void shouldPrintTheMergedViewOfTwoInstances() throws Exception {
        // Given the traffic above on A and B
        // When
        CliRun r = run("report", "--admin", admin(a), "--admin", admin(b));

        // Then
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("closewatch report: 2 of 2 instances answered (" + admin(a) + ", " + admin(b)
                + "), last 10m until "), lines.get(0));
        assertTrue(lines.contains("Sessions: 15 ended in the window, 0 open now."), r.out());
        assertContainsInOrder(lines,
                "  1006    Abnormal Closure [abnormal]     9  (client 0, upstream 9, proxy 0)",
                "  1000    Normal Closure [normal]         5  (client 5, upstream 0, proxy 0)",
                "          by instance: " + admin(a) + " 2, " + admin(b) + " 3",
                "  1011    Internal Error [internal_error] 1  (client 0, upstream 1, proxy 0)");
        String signature = lines.stream().filter(l -> l.startsWith("  route default, upstream leg: 9 of 9 abnormal ends after "))
                .findFirst().orElseThrow(() -> new AssertionError(r.out()));
        assertTrue(signature.endsWith(" s idle: an idle timeout of about " + signature.substring(
                "  route default, upstream leg: 9 of 9 abnormal ends after ".length(), signature.indexOf(" s idle")) + " s between "
                + "closewatch and the upstream"), signature);
        assertContainsInOrder(lines, signature,
                "    likely culprits: no well-known default matches; look for a timeout of "
                        + signature.substring(signature.indexOf("after ") + 6, signature.indexOf(" s idle")) + " s set on that leg");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("    remedy: Raise that idle timeout")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("    seen by " + admin(a) + ": 9 of 9 since ")), r.out());
        assertTrue(lines.contains("Reconnect storms: 3 clients reconnect again and again without backing off"), r.out());
        assertEquals(3, lines.stream().filter(l -> l.startsWith("  " + admin(a) + " route default client ")
                && l.contains(": 2 reconnects in a row, last delays ")).count(), r.out());
        assertTrue(lines.contains("  after 1006 Abnormal Closure: 6 reconnects, 100 % waited at least 1 s; "
                + "delays grew in 0 of 3: clients do not back off"), r.out());
        assertContainsInOrder(lines, "  abnormal:", "    client     127.0.0.1 (9)");
        assertContainsInOrder(lines, "  abnormal:", "    network    127.0.0.0/24 (9)", "    origin     http://127.0.0.1 (9)",
                "    path       /chat (9)");
        assertContainsInOrder(lines, "  internal_error:", "    client     127.0.0.1 (1)");
    }

    @Test
    void shouldPrintTheSameNumbersAsJsonThatValidatesAgainstTheSchema() throws Exception {
        // Given the documented shape
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(Path.of("docs/report.schema.json")), InputFormat.JSON);

        // When
        CliRun r = run("report", "--admin", admin(a), "--admin", admin(b), "--json");

        // Then it is valid
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(), schema.validate(r.out(), InputFormat.JSON), r.out());
        // and carries the text's numbers
        JsonNode report = JSON.readTree(r.out());
        assertEquals(2, report.get("asked").asInt());
        assertEquals(2, report.get("answered").asInt());
        assertEquals(15, report.get("closes").asLong());
        assertEquals(600, report.get("window_seconds").asLong());
        assertEquals(List.of("1006:9", "1000:5", "1011:1"), fields(report.get("closes_by_code"), "code", "count"));
        JsonNode normal = report.get("closes_by_code").get(1);
        assertEquals(List.of(admin(a) + ":2", admin(b) + ":3"), fields(normal.get("by_instance"), "admin", "count"));
        JsonNode signatures = report.get("signatures");
        assertEquals(1, signatures.size(), signatures.toString());
        JsonNode s = signatures.get(0);
        assertEquals(List.of("default", "upstream", "idle", "9", "9"), List.of(s.get("route").asText(), s.get("leg").asText(),
                s.get("kind").asText(), s.get("count").asText(), s.get("total").asText()));
        double seconds = s.get("seconds").asDouble();
        assertTrue(seconds >= 1.9 && seconds < 2.6, s.toString());
        assertEquals(List.of(admin(a)), s.get("evidence").findValuesAsText("admin"));
        assertEquals(3, report.get("storms").size());
        JsonNode reconnect = report.get("reconnects_by_previous_code").get(0);
        assertEquals("1006 6 6 3 0 no", String.join(" ", reconnect.get("code").asText(), reconnect.get("reconnects").asText(),
                reconnect.get("waited_at_least_1s").asText(), reconnect.get("comparable").asText(),
                reconnect.get("grew").asText(), reconnect.get("backoff").asText()));
        assertEquals(1, report.get("reconnects_by_previous_code").size());
    }

    @Test
    void shouldNameAnInstanceThatDoesNotAnswerAndExit4() throws Exception {
        // Given a third address where nothing listens
        int dead = deadPort();

        // When
        CliRun r = run("report", "--admin", admin(a), "--admin", admin(b), "--admin", "127.0.0.1:" + dead, "--timeout", "2");

        // Then it is named on stderr and in the report, which covers the other two
        assertEquals(4, r.exit(), r.err());
        assertTrue(r.err().startsWith("closewatch report: 127.0.0.1:" + dead + " did not answer: http://127.0.0.1:" + dead
                + "/api/summary?window=600s: "), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("closewatch report: 2 of 3 instances answered (" + admin(a) + ", " + admin(b) + ")"),
                lines.get(0));
        assertTrue(lines.get(1).startsWith("  did not answer: 127.0.0.1:" + dead + ": http://127.0.0.1:" + dead), lines.get(1));
        assertTrue(lines.contains("Sessions: 15 ended in the window, 0 open now."), r.out());
    }

    @Test
    void shouldExit1AndPrintNothingWhenNoInstanceAnswers() throws Exception {
        // Given only an address where nothing listens
        int dead = deadPort();

        // When
        CliRun r = run("report", "--admin", "127.0.0.1:" + dead, "--json");

        // Then
        assertEquals(1, r.exit(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().endsWith("closewatch report: none of the 1 instances answered\n"), r.err());
    }

    @Test
    void shouldSendTheTokenFromAFileAndNameA401() throws Exception {
        // Given an instance with an admin token, and the token in a file
        try (ProxyHarness locked = ProxyHarness.start(c -> c.withAdminConfig(new AdminConfig("127.0.0.1:0", "s3cret-token-0123456789", null, null)))) {
            Path file = Files.createTempFile("token", ".txt");
            Files.writeString(file, "s3cret-token-0123456789\n");
            try {
                // When it is asked with the file, and without a token
                CliRun with = run("report", "--admin", admin(locked), "--token-file", file.toString());
                CliRun without = run("report", "--admin", admin(locked));

                // Then the first answers, the second is refused with the admin server's own words
                assertEquals(0, with.exit(), with.err());
                assertTrue(with.out().contains("Sessions: 0 ended in the window, 0 open now."), with.out());
                assertEquals(1, without.exit());
                assertTrue(without.err().startsWith("closewatch report: " + admin(locked) + " did not answer: http://"
                        + admin(locked) + "/api/summary?window=600s: 401 unauthorized: no bearer token"), without.err());
            } finally {
                Files.delete(file);
            }
        }
    }

    @Test
    void shouldRefuseATokenThatIsNoBearerTokenAsAUsageError() throws Exception {
        // Given a token file of two lines (a line break would split the request head)
        Path file = Files.createTempFile("token", ".txt");
        try {
            Files.writeString(file, "s3cret-token-0123456789\nsecond-line\n");

            // When the report is given it, or a --token with a space
            CliRun twoLines = run("report", "--admin", admin(a), "--token-file", file.toString());
            CliRun space = run("report", "--admin", admin(a), "--token", "s3cret token");

            // Then both are usage errors (2) that name the option, never show the token, and print no report
            assertEquals(2, twoLines.exit());
            assertTrue(twoLines.err().startsWith("--token-file: " + file + ": <hidden, 35 characters> (expected: a bearer"
                    + " token as in RFC 6750"), twoLines.err());
            assertEquals("", twoLines.out());
            assertEquals(2, space.exit());
            assertTrue(space.err().startsWith("--token: <hidden, 12 characters> (expected: a bearer token"), space.err());
            assertEquals("", space.out());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void shouldRefuseAWindowOutsideOneSecondToOneHour() throws Exception {
        // Given an instance
        AdminClient client = new AdminClient(Duration.ofSeconds(5), null);
        HostPort address = new HostPort("127.0.0.1", a.adminPort());

        // When the summary or the report is asked for two hours, or half a second
        AdminClient.AdminException summary = org.junit.jupiter.api.Assertions.assertThrows(AdminClient.AdminException.class,
                () -> client.get(address, "/api/summary?window=2h"));
        AdminClient.AdminException millis = org.junit.jupiter.api.Assertions.assertThrows(AdminClient.AdminException.class,
                () -> client.get(address, "/api/summary?window=500ms"));
        CliRun report = run("report", "--admin", admin(a), "--window", "2h");

        // Then the admin server answers 400 with what was expected, and the command exits 2 saying the same
        assertEquals("http://" + address + "/api/summary?window=2h: 400 window: '2h' (expected: whole seconds from 1s to 1h, "
                + "e.g. 10m)", summary.getMessage());
        assertTrue(millis.getMessage().endsWith(": 400 window: '500ms' (expected: whole seconds from 1s to 1h, e.g. 10m)"),
                millis.getMessage());
        assertEquals(2, report.exit());
        assertEquals("", report.out());
        assertTrue(report.err().startsWith("--window: '2h' (expected: whole seconds from 1s to 1h, e.g. 10m)"), report.err());
    }

    private static RawClient open(ProxyHarness h, String path) throws Exception {
        RawClient c = RawClient.open(h.port(), path);
        assertEquals(101, c.response().status(), path);
        return c;
    }

    /** The client sends Close {@code code}, reads the answer and waits for closewatch to close. */
    private static void closeCleanly(RawClient c, int code) throws Exception {
        c.send(true, Frames.CLOSE, Frames.closeBody(code, ""));
        assertEquals(Frames.CLOSE, c.readFrame().opcode());
        assertTrue(c.peerClosed());
        c.close();
    }

    private static String admin(ProxyHarness h) {
        return "127.0.0.1:" + h.adminPort();
    }

    private static int deadPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static List<String> fields(JsonNode array, String key, String value) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.get(key).asText() + ":" + n.get(value).asText()));
        return out;
    }

    private static void assertContainsInOrder(List<String> lines, String... expected) {
        int from = 0;
        for (String e : expected) {
            int at = lines.subList(from, lines.size()).indexOf(e);
            assertTrue(at >= 0, "missing, or out of order: [" + e + "] in\n" + String.join("\n", lines));
            from += at + 1;
        }
    }
}
