package dev.closewatch.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A {@code closewatch} command run as its own JVM (this JVM's {@code java}, the test classpath),
 * for tests of what only a real process shows: signals, exit codes, resident memory. Its stdout
 * and stderr are read into {@link #output()} as they come. {@link #close()} stops it: SIGTERM,
 * then up to 20 s for it to exit (a drain), then SIGKILL.
 */
public final class ChildJvm implements AutoCloseable {

    private static final Duration EXIT_WAIT = Duration.ofSeconds(20);

    private final Process process;
    private final StringBuilder output = new StringBuilder();
    private final Thread reader;

    private ChildJvm(List<String> command) throws IOException {
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        reader = new Thread(this::readOutput, "output-of-" + command.get(command.size() - 1));
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code dev.closewatch.cli.CloseWatchCommand args} in a new JVM.
     *
     * @param jvmOptions options before the main class ({@code -Xmx256m}, ...); may be empty
     * @param args       the command line ({@code run --config FILE}, {@code echo-upstream ...})
     */
    public static ChildJvm closewatch(List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.closewatch.cli.CloseWatchCommand"));
        command.addAll(List.of(args));
        return new ChildJvm(command);
    }

    /** A loopback port free now, for a child's listener (closewatch logs no bound port). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (output) {
                    output.append(line).append('\n');
                }
            }
        } catch (IOException ended) {
            // the process ended and took its end of the pipe with it
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** Everything the process wrote so far, stdout and stderr interleaved, one line per line. */
    public String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    /**
     * Waits until the output holds {@code text}; fails, with the output, if the process exits or
     * {@code timeout} passes first.
     */
    public void awaitOutput(String text, Duration timeout) {
        Awaitility.await().atMost(timeout).until(() -> output().contains(text) || !process.isAlive());
        assertTrue(output().contains(text), () -> "expected in the output of pid " + pid() + ": " + text + "\n" + output());
    }

    /** Sends {@code SIG<name>} ({@code HUP}, {@code INT}, ...) with kill(1). */
    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill -" + name + " returned");
        assertEquals(0, kill.exitValue(), "kill -" + name + " " + pid());
    }

    /** SIGTERM through the process handle: {@link Process#destroy()} would also close our end of its output. */
    public void sigterm() {
        assertTrue(process.toHandle().destroy(), "SIGTERM sent");
    }

    /** Waits up to 20 s for the process to exit, then for the last of its output; its exit code. */
    public int exitCode() throws InterruptedException {
        assertTrue(process.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS), () -> "pid " + pid() + " exits\n" + output());
        reader.join(5000);
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.toHandle().destroy();
            if (!process.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        reader.join(5000);
    }
}
