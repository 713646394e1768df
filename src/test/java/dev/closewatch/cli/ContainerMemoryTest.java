package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.closewatch.testing.ChildJvm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The shipped container memory budget, held by a real process: {@code closewatch run} started with
 * the Dockerfile's {@code JAVA_OPTS} and {@code -XX:MaxRAM} set to the Kubernetes Deployment's
 * memory limit (the JVM sizes itself as in that container), then loaded over loopback with
 * {@value #SESSIONS} WebSocket sessions echoing {@value #MESSAGES} binary messages of
 * {@value #MESSAGE_BYTES} bytes each at once through an echo upstream. The process's peak resident
 * set ({@code VmHWM}) must stay under the limit minus the room the Docker health check's own JVM
 * needs ({@value #HEALTHCHECK_ROOM_MIB} MiB).
 */
class ContainerMemoryTest {

    private static final int SESSIONS = 128;
    private static final int MESSAGES = 4;
    private static final int MESSAGE_BYTES = 1 << 19;
    private static final long HEALTHCHECK_ROOM_MIB = 64;
    private static final long MIB = 1 << 20;

    private static final Path ROOT = Path.of(System.getProperty("user.dir"));

    /**
     * {@code ENV JAVA_OPTS="..."} of the Dockerfile, less the flags the JDK running the tests does not
     * know: the image runs JDK 25 and the suite also runs on 17, which refuses to start with
     * {@code -XX:+UseCompactObjectHeaders} (a product flag since JDK 25).
     */
    static List<String> shippedJavaOpts() throws Exception {
        Matcher m = Pattern.compile("JAVA_OPTS=\"([^\"]*)\"").matcher(Files.readString(ROOT.resolve("Dockerfile")));
        assertTrue(m.find(), "no JAVA_OPTS in the Dockerfile");
        return Arrays.stream(m.group(1).trim().split("\\s+"))
                .filter(o -> Runtime.version().feature() >= 25 || !o.equals("-XX:+UseCompactObjectHeaders"))
                .toList();
    }

    /** The memory limit of the closewatch container in deploy/kubernetes/deployment.yaml, in bytes. */
    static long deploymentMemoryLimit() throws Exception {
        JsonNode deployment = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("deploy/kubernetes/deployment.yaml").toFile());
        String limit = deployment.at("/spec/template/spec/containers/0/resources/limits/memory").asText();
        Matcher m = Pattern.compile("(\\d+)Mi").matcher(limit);
        assertTrue(m.matches(), "limits.memory: '" + limit + "' (expected: NNNMi)");
        assertEquals(limit, deployment.at("/spec/template/spec/containers/0/resources/requests/memory").asText(),
                "requests.memory = limits.memory: a JVM's memory is not elastic");
        return Long.parseLong(m.group(1)) * MIB;
    }

    /** The value of a size flag such as {@code -Xmx144m} or {@code -XX:MaxDirectMemorySize=112m}, in bytes. */
    static long sizeFlag(List<String> opts, String prefix) {
        String flag = opts.stream().filter(o -> o.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("JAVA_OPTS has no " + prefix + ": " + opts));
        Matcher m = Pattern.compile("(\\d+)([mg])").matcher(flag.substring(prefix.length()));
        assertTrue(m.matches(), flag + " (expected: a size in m or g)");
        return Long.parseLong(m.group(1)) * (m.group(2).equals("g") ? 1024 * MIB : MIB);
    }

    private static long peakRss(Process p) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new AssertionError("no VmHWM in /proc/" + p.pid() + "/status");
    }

    @Test
    void shouldCapEveryGrowingMemoryPoolInsideTheDeploymentLimit() throws Exception {
        // Given the shipped flags and the Deployment's memory limit
        List<String> opts = shippedJavaOpts();
        long limit = deploymentMemoryLimit();
        long capped = sizeFlag(opts, "-Xmx") + sizeFlag(opts, "-XX:MaxDirectMemorySize=")
                + sizeFlag(opts, "-XX:MaxMetaspaceSize=") + sizeFlag(opts, "-XX:ReservedCodeCacheSize=");
        // Then heap + direct + metaspace + code cache leave at least 128 MiB for the JVM's native
        // memory (G1, JIT, threads: about 75 MiB measured) and the health check's JVM
        assertTrue(limit - capped >= 128 * MIB, "limit " + limit / MIB + " MiB - capped pools " + capped / MIB
                + " MiB leaves " + (limit - capped) / MIB + " MiB (expected: >= 128)");
    }

    @Test
    void shouldStayUnderTheContainerLimitWithDirectMemoryInUse() throws Exception {
        // Given closewatch run as its own process with the shipped flags and the container's RAM,
        // in front of an echo upstream process
        List<String> opts = shippedJavaOpts();
        long limit = deploymentMemoryLimit();
        try (ChildJvm upstream = ChildJvm.closewatch(List.of("-Xmx256m"), "echo-upstream", "--listen", "127.0.0.1:0")) {
            upstream.awaitOutput("listening on ws://", Duration.ofSeconds(30));
            Matcher up = Pattern.compile("listening on ws://127\\.0\\.0\\.1:(\\d+)").matcher(upstream.output());
            assertTrue(up.find(), upstream.output());
            int port = ChildJvm.freePort();
            int adminPort = ChildJvm.freePort();
            List<String> jvm = new ArrayList<>(opts);
            jvm.add("-XX:MaxRAM=" + limit);
            try (ChildJvm proxy = ChildJvm.closewatch(jvm, "run", "--listen", "127.0.0.1:" + port,
                    "--admin", "127.0.0.1:" + adminPort, "--upstream", "ws://127.0.0.1:" + up.group(1))) {
                proxy.awaitOutput("closewatch proxy listening", Duration.ofSeconds(30));
                load(proxy, port, adminPort, opts, limit);
            }
        }
    }

    /** The load of {@link #shouldStayUnderTheContainerLimitWithDirectMemoryInUse} and its checks. */
    private static void load(ChildJvm proxy, int port, int adminPort, List<String> opts, long limit) throws Exception {
        // When every session sends its messages at once and waits for each echo
        HttpClient http = HttpClient.newHttpClient();
        byte[] payload = new byte[MESSAGE_BYTES];
        new Random(11).nextBytes(payload);
        AtomicLong echoed = new AtomicLong();
        AtomicLong peakDirect = new AtomicLong();
        List<CompletableFuture<Void>> sessions = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            sessions.add(echoSession(http, port, payload, echoed));
        }
        String metrics = "http://127.0.0.1:" + adminPort + "/metrics";
        CompletableFuture<Void> all = CompletableFuture.allOf(sessions.toArray(CompletableFuture[]::new));
        while (!all.isDone()) {
            peakDirect.accumulateAndGet(directBytes(http, metrics), Math::max);
            try {
                all.get(200, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException notYet) {
                // scrape again
            }
        }
        all.get(120, TimeUnit.SECONDS);

        // Then every message came back whole
        assertEquals((long) SESSIONS * MESSAGES * MESSAGE_BYTES, echoed.get());
        // and the load went through direct buffers, within their cap
        long peak = peakRss(proxy.process());
        System.out.printf("container memory: limit %d MiB, peak RSS %d MiB, peak direct buffers %d MiB%n",
                limit / MIB, peak / MIB, peakDirect.get() / MIB);
        assertTrue(peakDirect.get() >= 2 * MIB, "direct buffers in use: " + peakDirect.get());
        assertTrue(peakDirect.get() <= sizeFlag(opts, "-XX:MaxDirectMemorySize="), "direct: " + peakDirect.get());
        // and the process never held more than the limit less the health check's room
        assertTrue(peak <= limit - HEALTHCHECK_ROOM_MIB * MIB, "peak RSS " + peak / MIB + " MiB (expected: <= "
                + (limit / MIB - HEALTHCHECK_ROOM_MIB) + " MiB)\n" + proxy.output());
        assertTrue(proxy.process().isAlive(), "the proxy survived the load\n" + proxy.output());
    }

    /**
     * The direct memory in use by the proxy's /metrics, in bytes: the larger of the JDK's direct
     * buffer pool ({@code jvm_buffer_memory_used_bytes{id="direct"}}) and the sum of Netty's
     * allocators' direct memory ({@code netty_allocator_memory_used{memory_type="direct"}}). On
     * JDK 17 Netty's buffers are in the JDK's pool; on JDK 25 with native access Netty allocates
     * its direct memory itself (counted against the same -XX:MaxDirectMemorySize by Netty), so only
     * its allocator metrics see it.
     */
    private static long directBytes(HttpClient http, String metrics) throws Exception {
        String body = http.send(HttpRequest.newBuilder(URI.create(metrics)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher jdk = Pattern.compile("(?m)^jvm_buffer_memory_used_bytes\\{id=\"direct\"\\} (\\S+)$").matcher(body);
        long pool = jdk.find() ? (long) Double.parseDouble(jdk.group(1)) : 0;
        Matcher netty = Pattern.compile("(?m)^netty_allocator_memory_used\\{[^}]*memory_type=\"direct\"[^}]*\\} (\\S+)$").matcher(body);
        long allocators = 0;
        while (netty.find()) {
            allocators += (long) Double.parseDouble(netty.group(1));
        }
        return Math.max(pool, allocators);
    }

    /** One session: sends {@value #MESSAGES} messages, each after the echo of the one before, then closes. */
    private static CompletableFuture<Void> echoSession(HttpClient http, int port, byte[] payload, AtomicLong echoed) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private int received;
            private long bytes;

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                bytes += data.remaining();
                echoed.addAndGet(data.remaining());
                if (last) {
                    if (bytes != payload.length) {
                        done.completeExceptionally(new AssertionError("echo of " + bytes + " bytes"));
                    }
                    bytes = 0;
                    received++;
                    if (received == MESSAGES) {
                        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").thenRun(() -> done.complete(null));
                    } else {
                        ws.sendBinary(ByteBuffer.wrap(payload), true);
                    }
                }
                ws.request(1);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                done.completeExceptionally(error);
            }
        };
        http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://127.0.0.1:" + port + "/"), listener)
                .thenCompose(ws -> ws.sendBinary(ByteBuffer.wrap(payload), true))
                .exceptionally(e -> {
                    done.completeExceptionally(e);
                    return null;
                });
        return done.orTimeout(120, TimeUnit.SECONDS);
    }
}
