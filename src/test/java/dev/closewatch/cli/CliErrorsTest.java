package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** Errors a person can act on: exit codes, busy ports, help defaults, completion, explain. */
class CliErrorsTest {

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

    private static ServerSocket busy() throws Exception {
        return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @Test
    void shouldExitWithDistinctCodesForUsageConfigurationAndRuntimeErrors(@TempDir Path dir) throws Exception {
        // Given a bad flag, a bad configuration and a busy port
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "listen: nope\n");
        try (ServerSocket taken = busy()) {
            // When
            Result usage = run("run", "--no-such-flag");
            Result config = run("check-config", bad.toString());
            Result runtime = run("run", "--listen", "127.0.0.1:" + taken.getLocalPort(), "--admin", "127.0.0.1:0",
                    "--upstream", "ws://127.0.0.1:1");

            // Then
            assertEquals(2, usage.exit(), usage.err());
            assertEquals(78, config.exit(), config.err());
            assertEquals(1, runtime.exit(), runtime.err());
        }
    }

    @Test
    void shouldNameTheAddressTheFlagAndTheFixInOneLineWhenTheProxyPortIsBusy() throws Exception {
        try (ServerSocket taken = busy()) {
            int port = taken.getLocalPort();
            // When
            Result r = run("run", "--listen", "127.0.0.1:" + port, "--admin", "127.0.0.1:0", "--upstream", "ws://127.0.0.1:1");

            // Then
            assertEquals(1, r.exit());
            assertEquals("closewatch: cannot listen on 127.0.0.1:" + port + " (set by --listen): address already in use; "
                    + "stop the process that holds it (ss -ltnp 'sport = :" + port + "' shows it) or choose another port "
                    + "with --listen or listen:.\n", r.err());
        }
    }

    @Test
    void shouldNameTheConfigKeyWhenTheAdminPortIsBusy(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = busy()) {
            int port = taken.getLocalPort();
            Path file = dir.resolve("c.yaml");
            Files.writeString(file, "listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:" + port + "\n"
                    + "routes:\n  - {name: a, upstream: 'ws://127.0.0.1:1'}\n");
            // When
            Result r = run("run", "--config", file.toString());

            // Then
            assertEquals(1, r.exit());
            assertEquals("closewatch: cannot listen on 127.0.0.1:" + port + " (set by admin.listen in " + file + "): address "
                    + "already in use; stop the process that holds it (ss -ltnp 'sport = :" + port + "' shows it) or choose "
                    + "another port with --admin or admin.listen:.\n", r.err());
        }
    }

    @Test
    void shouldPrintNoListeningLineAndNoStackTraceBeforeABusyAdminPort() throws Exception {
        try (ServerSocket taken = busy()) {
            // Given a real closewatch process whose proxy port is free and admin port is not
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                    "dev.closewatch.cli.CloseWatchCommand", "run", "--listen", "127.0.0.1:0",
                    "--admin", "127.0.0.1:" + taken.getLocalPort(), "--upstream", "ws://127.0.0.1:1"))
                    .redirectErrorStream(true).start();

            // When
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "closewatch exits");
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            // Then the whole output is the one line
            assertEquals(1, p.exitValue(), output);
            assertEquals("closewatch: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (set by --admin): address "
                    + "already in use; stop the process that holds it (ss -ltnp 'sport = :" + taken.getLocalPort()
                    + "' shows it) or choose another port with --admin or admin.listen:.\n", output);
        }
    }

    @Test
    void shouldShowADefaultForEveryOptionInHelp() {
        // Given every command
        CommandLine root = new CommandLine(new CloseWatchCommand());
        for (CommandLine cmd : root.getSubcommands().values()) {
            CommandSpec spec = cmd.getCommandSpec();
            String help = cmd.getUsageMessage(CommandLine.Help.Ansi.OFF);
            for (OptionSpec option : spec.options()) {
                if (option.usageHelp() || option.versionHelp()) {
                    continue;
                }
                // Then each option's description names its default, with variables filled in
                String description = String.join(" ", option.description());
                assertTrue(description.toLowerCase().contains("default"), spec.name() + " " + option.longestName()
                        + ": " + description);
                assertFalse(help.contains("${"), help);
            }
        }
    }

    @Test
    void shouldPrintABashCompletionScriptThatKnowsEveryCommand() {
        // When
        Result r = run("completion");

        // Then
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("complete -F _complete_closewatch"), r.out());
        for (String sub : new String[] {"run", "demo", "explain", "codes", "check-config", "healthcheck", "completion"}) {
            assertTrue(r.out().contains(sub), sub);
        }
        assertTrue(r.out().contains("--listen"), r.out());
    }

    @Test
    void shouldCompleteCommandsAndOptionsInBash(@TempDir Path dir) throws Exception {
        // Given the script in a file, sourced by a real bash
        Path script = dir.resolve("closewatch.bash");
        Files.writeString(script, run("completion").out());
        String complete = "source " + script + "; c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\";"
                + " COMP_POINT=${#COMP_LINE}; _complete_closewatch 2>/dev/null; echo \"${COMPREPLY[*]}\"; };"
                + " c closewatch check-c; c closewatch run --li; c closewatch explain --con";
        Process bash = new ProcessBuilder("bash", "--norc", "-c", complete).redirectErrorStream(true).start();

        // When
        assertTrue(bash.waitFor(20, TimeUnit.SECONDS));
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        // Then
        assertEquals("check-config\n--listen\n--config\n", out);
    }

    @Test
    void shouldCompareTwoCodesSayingEachDescriptionOnceThenTheDifferences() {
        // When
        Result r = run("explain", "1000", "1006");

        // Then
        assertEquals(0, r.exit(), r.err());
        String description = "The connection has been closed cleanly, meaning the purpose for which it was established has been fulfilled.";
        assertEquals(1, r.out().split(java.util.regex.Pattern.quote(description), -1).length - 1, r.out());
        assertTrue(r.out().startsWith("WebSocket 1000 Normal Closure vs 1006 Abnormal Closure\n\n1000 Normal Closure\n"
                + "  Meaning:          " + description), r.out());
        assertTrue(r.out().contains("\nDifferences that matter\n"
                + "  Category:         1000 normal; 1006 abnormal\n"
                + "  Severity:         1000 normal; 1006 abnormal\n"
                + "  In a Close frame: 1000 may be sent; 1006 never sent (reported by an endpoint, or invalid)\n"
                + "  Metric label:     1000 code=\"1000\"; 1006 code=\"1006\"\n"
                + "  Both:             defined in RFC 6455 §7.4.1\n"), r.out());
    }

    @Test
    void shouldExplainWithTheShippedExampleCatalog() {
        // When
        Result r = run("explain", "4029", "--config", "config/example-catalog.yaml");

        // Then
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("WebSocket 4029 Rate Limited\n"), r.out());
        assertTrue(r.out().contains("How to fix:       Slow the client's send rate;"), r.out());
    }

    @Test
    void shouldRefuseAMisspeltKeyInACatalogFileWithItsLine(@TempDir Path dir) throws Exception {
        // Given
        Path file = dir.resolve("catalog.yaml");
        Files.writeString(file, "codes:\n  - code: 4001\n    name: Token Expired\n    remedi: Refresh.\n");

        // When
        Result r = run("explain", "4001", "--config", file.toString());

        // Then
        assertEquals(78, r.exit());
        assertTrue(r.err().contains("line 4: codes[0].remedi: unknown key (did you mean remedy?)"), r.err());
    }
}
