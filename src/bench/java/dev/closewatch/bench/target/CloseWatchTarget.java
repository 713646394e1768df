package dev.closewatch.bench.target;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * closewatch as shipped: {@code java -jar closewatch.jar run} in its own process, in front of the
 * upstream, with a Logback configuration that keeps the close line of normal ends (DEBUG) off so
 * the benchmark does not measure console output. Session ends are read back from the admin
 * port's {@code /metrics}.
 */
public final class CloseWatchTarget extends ProcessTarget {

    private final URI metrics;
    private final Path jcmd;

    private CloseWatchTarget(String name, Process process, InetSocketAddress address, URI metrics, Path jcmd) {
        super(name, process, address);
        this.metrics = metrics;
        this.jcmd = jcmd;
    }

    /**
     * Starts closewatch and waits until its proxy and admin ports accept connections.
     *
     * @param name     the target's name in the report: {@code closewatch}, or {@code closewatch-jdk25}
     *                 etc. when several JDKs run side by side
     * @param javaHome the JDK (or JRE) whose {@code bin/java} runs it, and whose {@code bin/jcmd} talks to it
     * @param jar      the shaded {@code closewatch.jar}
     * @param jvmArgs  JVM options of the proxy process (heap, GC), split on spaces
     * @param logback  Logback configuration file for the proxy process
     * @param upstream the upstream's address
     * @param log      where the process's standard output and error go
     * @throws IOException if it cannot be started or its two ports do not both listen within 40 s
     */
    public static CloseWatchTarget start(String name, Path javaHome, Path jar, String jvmArgs, Path logback,
                                         InetSocketAddress upstream, Path log) throws IOException, InterruptedException {
        int port = Ports.free();
        int admin = Ports.free();
        List<String> cmd = ProxyProcess.javaCommand(javaHome.resolve("bin/java"), jvmArgs);
        cmd.addAll(List.of("-Dlogback.configurationFile=" + logback, "-jar", jar.toString(), "run",
                "--listen", "127.0.0.1:" + port, "--admin", "127.0.0.1:" + admin,
                "--upstream", "ws://127.0.0.1:" + upstream.getPort()));
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        Process p = ProxyProcess.start(cmd, log, Duration.ofSeconds(40), "closewatch", log.toString(), address,
                new InetSocketAddress("127.0.0.1", admin));
        return new CloseWatchTarget(name, p, address, URI.create("http://127.0.0.1:" + admin + "/metrics"),
                javaHome.resolve("bin/jcmd"));
    }

    /**
     * This process's hard limit on open files, from {@code /proc/self/limits}; MAX_VALUE if unknown.
     * Child processes inherit it, and the JVM raises its soft limit to it; a proxy holds two
     * sockets per session, so this caps the sessions one proxy process can hold.
     */
    public static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return f[1].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Fall through.
        }
        return Long.MAX_VALUE;
    }

    @Override
    public Map<String, Long> recordedCloses() {
        try {
            Map<String, Long> closes = new TreeMap<>();
            for (PrometheusText.Sample s : PrometheusText.scrape(metrics)) {
                if (s.name().equals("closewatch_closes_total")) {
                    closes.merge(s.labels().get("code") + "/" + s.labels().get("initiator"), (long) s.value(), Long::sum);
                }
            }
            return closes;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + metrics + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sessions open now, from {@code closewatch_sessions_active}. */
    public long activeSessions() {
        try {
            return (long) PrometheusText.sum(PrometheusText.scrape(metrics), "closewatch_sessions_active", Map.of());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + metrics + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Map<String, Double> memoryMetrics() {
        try {
            List<PrometheusText.Sample> s = PrometheusText.scrape(metrics);
            Map<String, Double> m = new TreeMap<>();
            m.put("netty_direct_used", PrometheusText.sum(s, "netty_allocator_memory_used", Map.of("memory_type", "direct")));
            m.put("netty_direct_pinned", PrometheusText.sum(s, "netty_allocator_memory_pinned", Map.of("memory_type", "direct")));
            m.put("jvm_direct_buffers", PrometheusText.sum(s, "jvm_buffer_memory_used_bytes", Map.of("id", "direct")));
            m.put("jvm_heap_used", PrometheusText.sum(s, "jvm_memory_used_bytes", Map.of("area", "heap")));
            m.put("jvm_heap_committed", PrometheusText.sum(s, "jvm_memory_committed_bytes", Map.of("area", "heap")));
            m.put("jvm_nonheap_used", PrometheusText.sum(s, "jvm_memory_used_bytes", Map.of("area", "nonheap")));
            return m;
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
    }

    /** {@code jcmd PID GC.run}: a full collection, so resident memory reflects live data. */
    @Override
    public void collectGarbage() {
        jcmd("GC.run");
    }

    /** Runs a {@code jcmd} diagnostic command against the proxy process (e.g. {@code JFR.start …}). */
    public String jcmd(String... command) {
        List<String> cmd = new ArrayList<>(List.of(jcmd.toString(), Long.toString(process.pid())));
        cmd.addAll(List.of(command));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return out;
        } catch (IOException e) {
            return "jcmd failed: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
