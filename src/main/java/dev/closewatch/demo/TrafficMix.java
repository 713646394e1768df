package dev.closewatch.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's clients: the JDK's WebSocket client ({@code java.net.http}) opening sessions through
 * the proxy at a steady rate and ending each one the next {@link Scenario} way, after one echoed
 * message.
 */
public final class TrafficMix implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrafficMix.class);

    private final URI target;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final Semaphore inFlight = new Semaphore(64);
    private final AtomicLong next = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    /** @param target the proxy's WebSocket URI, e.g. {@code ws://127.0.0.1:8080/demo} */
    public TrafficMix(URI target) {
        this.target = target;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "closewatch-demo-traffic");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(scheduler).build();
    }

    /** Starts {@code sessionsPerSecond} sessions a second until closed. */
    public void start(int sessionsPerSecond) {
        long period = Math.max(1, 1_000_000 / Math.max(1, sessionsPerSecond));
        scheduler.scheduleAtFixedRate(this::startOne, 0, period, TimeUnit.MICROSECONDS);
    }

    /**
     * Starts a storm of abnormal closures after {@code delaySeconds}: {@code sessionsPerSecond}
     * extra sessions a second for {@code durationSeconds}, each ended by a TCP drop with no Close
     * frame (alternately by the upstream and by the client), so closewatch records 1006s.
     */
    public void startStorm(int delaySeconds, int durationSeconds, int sessionsPerSecond) {
        long period = Math.max(1, 1_000_000 / Math.max(1, sessionsPerSecond));
        Scenario upstreamDrop = Scenario.MIX.stream().filter(s -> "drop".equals(s.command())).findFirst().orElseThrow();
        Scenario clientDrop = Scenario.MIX.stream().filter(s -> s.clientClose() < 0).findFirst().orElseThrow();
        AtomicLong stormCount = new AtomicLong();
        var storm = scheduler.scheduleAtFixedRate(() -> {
            if (inFlight.tryAcquire()) {
                Scenario s = stormCount.getAndIncrement() % 2 == 0 ? upstreamDrop : clientDrop;
                run(s).whenComplete((v, e) -> inFlight.release());
            }
        }, TimeUnit.SECONDS.toMicros(delaySeconds), period, TimeUnit.MICROSECONDS);
        scheduler.schedule(() -> storm.cancel(false), delaySeconds + (long) durationSeconds, TimeUnit.SECONDS);
        LOG.info("demo: a storm of {} abnormal closures/s starts in {} s and lasts {} s", sessionsPerSecond,
                delaySeconds, durationSeconds);
    }

    /** Sessions that failed to open or finish (e.g. the proxy is down). */
    public long failures() {
        return failures.get();
    }

    private void startOne() {
        if (!inFlight.tryAcquire()) {
            return;
        }
        Scenario scenario = Scenario.MIX.get((int) (next.getAndIncrement() % Scenario.MIX.size()));
        run(scenario).whenComplete((v, e) -> {
            inFlight.release();
            if (e != null) {
                failures.incrementAndGet();
                LOG.debug("demo session '{}' failed: {}", scenario.name(), e.toString());
            }
        });
    }

    /** Runs one session of {@code scenario}; completes when the client has seen it end. */
    public CompletableFuture<Void> run(Scenario scenario) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<String> echoed = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    echoed.complete(text.toString());
                    text.setLength(0);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                done.complete(null);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                // An upstream TCP drop surfaces here: that is the scenario's end too.
                done.complete(null);
            }
        };
        http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(target, listener)
                .thenCompose(ws -> ws.sendText("hello from the closewatch demo", true)
                        .thenCompose(w -> echoed)
                        .thenCompose(echo -> end(ws, scenario, done)))
                .whenComplete((v, e) -> {
                    if (e != null) {
                        done.completeExceptionally(e);
                    }
                });
        return done.orTimeout(10, TimeUnit.SECONDS);
    }

    private static CompletableFuture<Void> end(WebSocket ws, Scenario scenario, CompletableFuture<Void> done) {
        if ("drop".equals(scenario.command())) {
            // The JDK client does not always notice a TCP close that comes with no Close frame;
            // the proxy has recorded the drop by then, so stop waiting for the client after 3 s.
            return ws.sendText(scenario.command(), true)
                    .thenCompose(w -> done.completeOnTimeout(null, 3, TimeUnit.SECONDS))
                    .whenComplete((v, e) -> ws.abort());
        }
        if (scenario.command() != null) {
            return ws.sendText(scenario.command(), true).thenCompose(w -> done);
        }
        if (scenario.clientClose() < 0) {
            ws.abort();
            done.complete(null);
            return done;
        }
        return ws.sendClose(scenario.clientClose(), "demo").thenCompose(w -> done);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
