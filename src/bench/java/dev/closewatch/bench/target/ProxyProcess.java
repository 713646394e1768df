package dev.closewatch.bench.target;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How the benchmark runs a proxy under test as a child process (closewatch, nginx, HAProxy; the
 * {@code netty-tcp} relay takes its JVM command line from here but starts as a {@link ReadyProcess}):
 * found on the PATH, started with its output in a log file, waited for until it listens, and
 * stopped with SIGTERM, then SIGKILL. A process that does not come up is killed before the error
 * is thrown, whatever the error (an interrupt included), so none outlives the benchmark.
 */
final class ProxyProcess {

    private ProxyProcess() {
    }

    /** {@code /usr/sbin/NAME} or the first {@code NAME} on the PATH that is executable; null if none. */
    static Path find(String name) {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/sbin", name)));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, name));
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** {@code JAVA JVMARGS...} as a list to add to: {@code jvmArgs} split on white space. */
    static List<String> javaCommand(Path java, String jvmArgs) {
        List<String> command = new ArrayList<>(List.of(java.toString()));
        for (String a : jvmArgs.trim().split("\\s+")) {
            if (!a.isEmpty()) {
                command.add(a);
            }
        }
        return command;
    }

    /** What {@code BINARY ARGS...} prints (stdout and stderr), trimmed; {@code unknown (…)} if it cannot run. */
    static String output(Path binary, String... args) {
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return out;
        } catch (IOException e) {
            p.destroyForcibly();
            return "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    /**
     * Starts {@code command} (stdout and stderr to {@code log}) and waits until every one of
     * {@code addresses} accepts a TCP connection, all within {@code timeout}.
     *
     * @param what names the process in the error, e.g. {@code nginx}
     * @param see  where to look when it fails, e.g. the log's path
     * @throws IOException          if it cannot be started, exits, or does not listen in time (it is killed)
     * @throws InterruptedException if interrupted while waiting (it is killed)
     */
    static Process start(List<String> command, Path log, Duration timeout, String what, String see,
                         InetSocketAddress... addresses) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean up = false;
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (InetSocketAddress address : addresses) {
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                if (!Ports.awaitListening(address, left, p)) {
                    throw new IOException(what + " did not start listening on " + address + "; see " + see);
                }
            }
            up = true;
            return p;
        } finally {
            if (!up) {
                kill(p);
            }
        }
    }

    /**
     * SIGTERM (nginx's fast shutdown, HAProxy's hard stop, closewatch's drain); after 10 s SIGKILL
     * to it and its descendants, then up to 5 s for it to go.
     */
    static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill(process);
            }
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
        }
    }

    private static void kill(Process process) {
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
