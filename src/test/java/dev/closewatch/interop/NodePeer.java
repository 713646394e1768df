package dev.closewatch.interop;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A Node.js WebSocket peer ({@code src/test/node/*.js}, built on the {@code ws} package) run as
 * a child process for interop tests: {@code node <script> args...} with the node directory as
 * working directory. Every stdout line is collected (by a reader thread) into a thread-safe list
 * that {@link #awaitLine(Predicate, Duration)} polls; stderr is collected too, for failure
 * messages.
 *
 * <p>The node directory is the system property {@code closewatch.node} (Surefire sets it to
 * {@code ${project.basedir}/src/test/node}), else {@code src/test/node}. Its dependencies come
 * from {@code npm ci --prefix src/test/node}.
 */
final class NodePeer implements AutoCloseable {

    /** What to run before these tests can: installs the locked {@code ws} package. */
    static final String INSTALL_COMMAND = "npm ci --prefix src/test/node";

    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    private final String name;
    private final Process process;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;
    private volatile boolean stdoutEnded;

    private NodePeer(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdoutReader = reader(name + "-stdout", process.getInputStream(), stdout, () -> stdoutEnded = true);
        this.stderrReader = reader(name + "-stderr", process.getErrorStream(), stderr, () -> { });
    }

    /**
     * Starts {@code node <script> args...} in the node directory.
     *
     * @param script a script in the node directory, e.g. {@code ws-server.js}
     */
    static NodePeer start(String script, String... args) {
        List<String> command = new ArrayList<>();
        command.add("node");
        command.add(script);
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).directory(nodeDir().toFile()).start();
            return new NodePeer(String.join(" ", command), process);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command + " in " + nodeDir(), e);
        }
    }

    /** The directory holding the node scripts, {@code package.json} and {@code node_modules}. */
    static Path nodeDir() {
        return Path.of(System.getProperty("closewatch.node", "src/test/node")).toAbsolutePath();
    }

    /** Whether {@code node --version} runs and the {@code ws} package is installed in {@link #nodeDir()}. */
    static boolean nodeAvailable() {
        return Availability.WHY_NOT == null;
    }

    /**
     * Skips the calling test when node or {@code ws} is missing, or fails it when running on CI
     * ({@code CI=true} as system property or environment variable): on CI a missing peer is a
     * broken build, not a reason to skip. Call it from {@code @BeforeEach} so every test is
     * reported skipped with the reason (an abort in {@code @BeforeAll} leaves no trace in
     * Surefire's summary).
     */
    static void requireNode() {
        String why = Availability.WHY_NOT;
        if (why == null) {
            return;
        }
        String message = "Node.js WebSocket interop peers unavailable: " + why
                + "; install them with `" + INSTALL_COMMAND + "` (needs node and npm on the PATH)";
        if (onCi()) {
            Assertions.fail(message + " [CI=true: failing instead of skipping]");
        }
        Assumptions.abort(message);
    }

    private static boolean onCi() {
        String value = System.getProperty("CI", System.getenv("CI"));
        return value != null && value.trim().toLowerCase(Locale.ROOT).equals("true");
    }

    /** Checked once per JVM. */
    private static final class Availability {
        static final String WHY_NOT = whyUnavailable();
    }

    /** Null if node and {@code ws} are usable, else what is missing. */
    private static String whyUnavailable() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "`node --version` did not finish within 30 s";
            }
            if (p.exitValue() != 0) {
                return "`node --version` exited with " + p.exitValue() + ": " + version;
            }
        } catch (IOException e) {
            return "`node --version` failed to run (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while running `node --version`";
        }
        Path ws = nodeDir().resolve("node_modules").resolve("ws").resolve("package.json");
        if (!Files.isRegularFile(ws)) {
            return "the ws package is not installed (no " + ws + ")";
        }
        return null;
    }

    /** The stdout lines so far. */
    List<String> lines() {
        return List.copyOf(stdout);
    }

    /** How many stdout lines there are so far; pass it to {@link #awaitLineAfter(int, Predicate, Duration)}. */
    int mark() {
        return stdout.size();
    }

    /**
     * Waits for the first stdout line matching {@code predicate}.
     *
     * @throws AssertionError if the process's stdout ends without such a line
     * @throws AssertionError if none arrives within {@code timeout}
     */
    String awaitLine(Predicate<String> predicate, Duration timeout) {
        return awaitLineAfter(0, predicate, timeout);
    }

    /** Like {@link #awaitLine(Predicate, Duration)}, considering only lines from index {@code mark} on. */
    String awaitLineAfter(int mark, Predicate<String> predicate, Duration timeout) {
        try {
            return await("a matching line from `" + name + "`")
                    .atMost(timeout)
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> find(mark, predicate), Optional::isPresent)
                    .orElseThrow();
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "; " + this, e);
        }
    }

    private Optional<String> find(int mark, Predicate<String> predicate) {
        boolean ended = stdoutEnded; // read before scanning: no line can follow the end
        List<String> lines = stdout;
        for (int i = mark; i < lines.size(); i++) {
            if (predicate.test(lines.get(i))) {
                return Optional.of(lines.get(i));
            }
        }
        if (ended) {
            throw new AssertionError("`" + name + "` ended its output without the awaited line; exit "
                    + exitText() + "; stdout: " + stdout + "; stderr: " + stderr);
        }
        return Optional.empty();
    }

    /** Waits for the process to exit on its own and returns its exit code (all output read by then). */
    int awaitExit(Duration timeout) {
        await("exit of `" + name + "`").atMost(timeout).pollInterval(Duration.ofMillis(10))
                .until(() -> !process.isAlive());
        joinReaders();
        return process.exitValue();
    }

    /** Closes the process's stdin (peers exit on it), then destroys it if still alive, and waits. */
    void stop() {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // Already gone.
        }
        try {
            if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        joinReaders();
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "NodePeer[" + name + ", exit " + exitText() + ", stdout " + stdout + ", stderr " + stderr + "]";
    }

    private String exitText() {
        return process.isAlive() ? "(running)" : Integer.toString(process.exitValue());
    }

    private void joinReaders() {
        try {
            stdoutReader.join(STOP_GRACE.toMillis());
            stderrReader.join(STOP_GRACE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread reader(String name, InputStream in, List<String> sink, Runnable atEnd) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    sink.add(line);
                }
            } catch (IOException e) {
                sink.add("<read failed: " + e + ">");
            } finally {
                atEnd.run();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
