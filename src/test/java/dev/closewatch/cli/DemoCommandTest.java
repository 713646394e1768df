package dev.closewatch.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.closewatch.demo.TrafficMix;
import dev.closewatch.testing.CliRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code closewatch demo} end to end, in-process with captured standard output (not a terminal):
 * within its first minute the running demo's admin API reports the idle-timeout signature of its
 * intermediary, a reconnect storm and the noisy client as top offender, and {@code closewatch report}
 * against it explains them; its output is one line per
 * second and a final summary. Bounded: the demo runs 60 s, the test about 65 s.
 */
class DemoCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int DURATION = 60;
    private static final Pattern ADMIN = Pattern.compile("metrics at http://(127\\.0\\.0\\.1:\\d+)/metrics");
    private static final Pattern INTERVAL = Pattern.compile("(\\d+)s sessions=\\d+ open=\\d+ closes: .* \\| signature: .*"
            + " \\| storm clients: \\d+");

    @Test
    void shouldShowSignatureStormAndOffenderWithinAMinuteInOneLinePerSecond() throws Exception {
        // Given the demo for 60 s, its output captured (so not a terminal), every port chosen by the system
        PrintStream oldOut = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int exit;
        try {
            long started = System.nanoTime();
            CompletableFuture<Integer> demo = CompletableFuture.supplyAsync(() -> new CommandLine(new CloseWatchCommand())
                    .execute("demo", "--duration", Integer.toString(DURATION), "--listen", "127.0.0.1:0",
                            "--admin", "127.0.0.1:0"));
            String admin = await().atMost(Duration.ofSeconds(20)).until(() -> {
                Matcher m = ADMIN.matcher(captured.toString(StandardCharsets.UTF_8));
                return m.find() ? m.group(1) : null;
            }, a -> a != null);
            Duration left = Duration.ofSeconds(DURATION).minusNanos(System.nanoTime() - started);

            // When the demo runs, Then within its first minute: the intermediary's 4 s idle timeout
            // as a signature on the client leg, with what it means
            JsonNode signature = await().atMost(left).pollInterval(Duration.ofMillis(500)).until(
                    () -> first(get(admin, "/api/diagnosis").get("signatures")), s -> s != null);
            assertEquals("client", signature.get("leg").asText(), signature.toString());
            assertEquals("idle", signature.get("kind").asText(), signature.toString());
            double seconds = signature.get("seconds").asDouble();
            assertTrue(seconds >= 4.0 && seconds < 5.0, signature.toString());
            // (the relay cuts at 4 s of silence or a little later on a busy machine)
            assertTrue(signature.get("text").asText().matches(
                    ".* after 4(\\.\\d)? s idle .*: an idle timeout of 4(\\.\\d)? s between the clients and closewatch"),
                    signature.toString());
            assertTrue(signature.get("remedy").asText().contains("keepalive.ping_interval"), signature.toString());

            // a reconnect storm: only the clients that reconnect at once, never those that back off
            left = Duration.ofSeconds(DURATION).minusNanos(System.nanoTime() - started);
            JsonNode storms = await().atMost(left).pollInterval(Duration.ofMillis(500)).until(
                    () -> get(admin, "/api/diagnosis").get("storms"), s -> s.size() > 0);
            assertTrue(storms.size() <= 3, storms.toString());
            for (JsonNode storm : storms) {
                assertTrue(storm.get("reconnects_in_a_row").asInt() >= 5, storms.toString());
            }

            // the noisy client first among the abnormal ends, by User-Agent and by address
            left = Duration.ofSeconds(DURATION).minusNanos(System.nanoTime() - started);
            await().atMost(left).pollInterval(Duration.ofMillis(500)).until(() -> TrafficMix.NOISY_USER_AGENT.equals(
                    topValue(admin, "user_agent")) && TrafficMix.NOISY_ADDRESS.equals(topValue(admin, "client")));

            // and `closewatch report` against the running demo explains them in plain language
            CliRun report = CliRun.run("report", "--admin", admin);
            String text = report.out();
            assertEquals(0, report.exit(), report.err() + text);
            assertTrue(text.startsWith("closewatch report: 1 of 1 instance answered (" + admin + ")"), text);
            assertTrue(Pattern.compile("(?m)^  1006 +Abnormal Closure \\[abnormal\\] +\\d+").matcher(text).find(), text);
            assertTrue(Pattern.compile("(?m)^Timeout signatures: [1-9]\\d*\\n  route default, client leg: \\d+ of \\d+ "
                    + "abnormal ends after 4\\.\\d s idle: an idle timeout of (about )?4\\.\\d s between the clients and closewatch$")
                    .matcher(text).find(), text);
            assertTrue(Pattern.compile("(?m)^Reconnect storms: [1-3] clients? reconnects? again and again without backing off$")
                    .matcher(text).find(), text);
            assertTrue(text.contains(TrafficMix.NOISY_ADDRESS), text);

            // the demo ends itself at --duration
            exit = demo.get(TimeUnit.SECONDS.toNanos(DURATION + 15) - (System.nanoTime() - started), TimeUnit.NANOSECONDS);
        } finally {
            System.setOut(oldOut);
        }

        // Then the output: the start line, one line per second, the final summary
        assertEquals(0, exit);
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertTrue(lines.get(0).startsWith("closewatch demo: proxy ws://127.0.0.1:"), lines.get(0));
        List<Long> intervals = new ArrayList<>();
        for (String line : lines.subList(1, 1 + DURATION)) {
            Matcher m = INTERVAL.matcher(line);
            assertTrue(m.matches(), line);
            intervals.add(Long.parseLong(m.group(1)));
        }
        assertEquals(LongStream.rangeClosed(1, DURATION).boxed().toList(), intervals);
        List<String> summary = lines.subList(1 + DURATION, lines.size());
        String all = String.join("\n", summary);
        assertTrue(summary.size() <= 8, all);
        assertTrue(summary.get(0).startsWith("summary after 60 s: "), all);
        assertTrue(summary.get(1).startsWith("closes:    ") && summary.get(1).contains("1006 Abnormal Closure ")
                && summary.get(1).contains("1013 Try Again Later "), all);
        assertTrue(summary.get(2).startsWith("signature: client leg: "), all);
        assertTrue(summary.get(3).startsWith("           remedy: Raise that idle timeout"), all);
        assertTrue(summary.get(summary.size() - 2).matches("storm: {5}[1-3] clients? reconnects? without back-off .*"), all);
        assertTrue(summary.get(summary.size() - 1).startsWith("closewatch demo: done after 60 s; "), all);
    }

    private static JsonNode first(JsonNode array) {
        return array.isEmpty() ? null : array.get(0);
    }

    private static String topValue(String admin, String by) throws Exception {
        JsonNode top = get(admin, "/api/top?by=" + by + "&category=abnormal&limit=3").get("top");
        return top.isEmpty() ? null : top.get(0).get("value").asText();
    }

    private static JsonNode get(String admin, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + admin + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
