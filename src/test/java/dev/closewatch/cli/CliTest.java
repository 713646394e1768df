package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The picocli commands, run in-process with captured output. */
class CliTest {

    private record Result(int exit, String out, String err) {
    }

    private static synchronized Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new CloseWatchCommand()).execute(args);
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void shouldExplainOneCode() {
        Result r = run("explain", "1012");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("WebSocket 1012 Service Restart\n"), r.out());
        assertTrue(r.out().contains("How to fix:       Implement automatic reconnection with a short delay (1-5 seconds)."), r.out());
        assertTrue(r.out().contains("Range:            1012; defined in IANA registry"), r.out());
    }

    @Test
    void shouldCompareTwoCodesLikeTheSeeds() {
        Result r = run("explain", "1000", "1003");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("WebSocket 1000 Normal Closure vs 1003 Unsupported Data\n"), r.out());
        assertTrue(r.out().contains("\nDifferences that matter\n"), r.out());
        assertTrue(r.out().contains("\n1003 Unsupported Data\n"), r.out());
        assertTrue(r.out().contains("How to fix:       Verify the message type (text vs binary)"), r.out());
    }

    @Test
    void shouldExplainRangesAndRejectImpossibleCodes() {
        Result r = run("explain", "4404");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("WebSocket 4404 Private Use\n"), r.out());
        assertTrue(r.out().contains("Range:            4000-4999; defined in RFC 6455"), r.out());
        Result bad = run("explain", "70000");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("code 70000 (expected: 0-65535)"), bad.err());
    }

    @Test
    void shouldExplainCustomCodesFromTheConfig() {
        Result r = run("explain", "4001", "--config", "config/closewatch.yaml");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("WebSocket 4001 Token Expired\n"), r.out());
        assertTrue(r.out().contains("How to fix:       Refresh the token and reconnect."), r.out());
    }

    @Test
    void shouldListTheCatalog() {
        Result r = run("codes");
        assertEquals(0, r.exit());
        for (String code : new String[] {"1000", "1005", "1006", "1011", "1015", "3000", "3003", "3008", "4000-4999"}) {
            assertTrue(r.out().contains("\n" + code + " "), code + " missing:\n" + r.out());
        }
    }

    @Test
    void shouldAcceptTheShippedConfig() {
        Result r = run("check-config", "config/closewatch.yaml");
        assertEquals(0, r.exit(), r.err());
        assertEquals("config/closewatch.yaml: OK (1 route(s), 1 custom code(s))\n", r.out());
    }

    @Test
    void shouldListEveryConfigErrorWithItsKeyPath(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "listen: nope\nroutes:\n  - name: ok\n    path_prefix: api\n    upstream: http//x\ncodes:\n  - code: 5001\n");
        Result r = run("check-config", file.toString());
        assertEquals(78, r.exit());
        assertTrue(r.err().contains("6 configuration error(s)"), r.err());
        assertTrue(r.err().contains("listen: 'nope' (expected: HOST:PORT, e.g. 127.0.0.1:8080)"), r.err());
        assertTrue(r.err().contains("routes[0].path_prefix: 'api' (expected: a path starting with /)"), r.err());
        assertTrue(r.err().contains("routes[0].upstream: 'http//x' (expected: ws://HOST[:PORT][/path]"), r.err());
        assertTrue(r.err().contains("codes[0].code: 5001 (expected: a private-use code 4000-4999)"), r.err());
    }

    @Test
    void shouldRefuseToRunOnAnInvalidConfig(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "upstream:\n  connect_timeout: soon\n");
        Result r = run("run", "--config", file.toString());
        assertEquals(78, r.exit());
        assertTrue(r.err().contains("refusing to start"), r.err());
        assertTrue(r.err().contains("upstream.connect_timeout: 'soon' (expected: a duration such as 250ms, 5s, 1m30s or 1h)"), r.err());
        Result none = run("run", "--listen", "127.0.0.1:0");
        assertEquals(78, none.exit());
        assertTrue(none.err().contains("routes: [] (expected: at least one route"), none.err());
    }

    @Test
    void shouldRunTheDemoAndPrintTheLiveTable() {
        // The counts depend on how far the mix got on a busy machine; DemoScenarioTest checks every
        // scenario's code exactly, DemoCommandTest the demo's first minute. Here: the command runs,
        // prints one line a second (its output is not a terminal) and a summary, and stops.
        Result r = run("demo", "--duration", "2", "--rate", "30", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\n1s sessions="), r.out());
        assertTrue(r.out().contains("\n2s sessions="), r.out());
        assertTrue(r.out().contains("\nsummary after 2 s: "), r.out());
        assertTrue(r.out().contains("closewatch demo: done after 2 s"), r.out());
        // Addresses read 127.0.0.1:PORT, never InetSocketAddress's /127.0.0.1:PORT
        assertTrue(r.out().contains(" -> embedded echo upstream ws://127.0.0.1:"), r.out());
        assertFalse(java.util.regex.Pattern.compile("(?<!/)/127\\.0\\.0\\.1").matcher(r.out()).find(), r.out());
    }

    @Test
    void shouldRunTheDemoThroughAnExternalDemoUpstream() throws Exception {
        // Given the demo's echo upstream on its own (as `closewatch echo-upstream` runs it)
        try (dev.closewatch.demo.EchoUpstream upstream = dev.closewatch.demo.EchoUpstream.start(
                new java.net.InetSocketAddress("127.0.0.1", 0))) {
            String uri = "ws://127.0.0.1:" + upstream.address().getPort();
            // When
            Result r = run("demo", "--upstream", uri, "--duration", "3", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0");
            // Then
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("-> demo upstream " + uri), r.out());
            assertTrue(java.util.regex.Pattern.compile("\ncloses: .* 1000 Normal Closure \\d+").matcher(r.out()).find(), r.out());
        }
    }
}
