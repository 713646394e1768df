package dev.closewatch.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's clients, all the JDK's WebSocket client ({@code java.net.http}):
 * <ul>
 *   <li>{@link #start}: sessions at a steady rate, each ended the next {@link Scenario} way after
 *       one echoed message, from a population of {@value #POPULATION} devices (each a documentation
 *       address, RFC 5737, sent as {@code X-Forwarded-For}, and one of many {@code User-Agent}s);</li>
 *   <li>{@link #startNoisyClient}: one more device ({@link #NOISY_ADDRESS}, {@link #NOISY_USER_AGENT})
 *       whose every session ends with a TCP drop (1006) — the top offender;</li>
 *   <li>{@link #startIdleClients}: sessions through an {@link IdleCutRelay} that say hello and then
 *       stay silent until the relay cuts them;</li>
 *   <li>{@link #startReconnectingClients}: clients with a stable key (header {@link #CLIENT_KEY_HEADER})
 *       whose sessions the server ends with 1013 Try Again Later; some reconnect at once (a
 *       reconnect storm), others back off exponentially.</li>
 * </ul>
 */
public final class TrafficMix implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrafficMix.class);

    /** The request header that carries the reconnecting clients' key (the demo's {@code reconnect.key}). */
    public static final String CLIENT_KEY_HEADER = "X-Demo-Client";
    /** Devices in the noisy population of {@link #start}. */
    public static final int POPULATION = 240;
    /** The top offender's address (RFC 5737 TEST-NET-1). */
    public static final String NOISY_ADDRESS = "192.0.2.66";
    /** The top offender's {@code User-Agent}. */
    public static final String NOISY_USER_AGENT = "ExampleChat/2.9.1 (Windows 7; kiosk)";
    /** What the server tells the reconnecting clients. */
    static final String TRY_AGAIN_LATER = "close 1013 overloaded, retry later";
    /** The back-off clients' first delay; it doubles up to {@link #BACKOFF_STEPS} times. */
    static final Duration BACKOFF_FIRST = Duration.ofMillis(250);
    static final int BACKOFF_STEPS = 6;

    private static final List<String> APPS = List.of("ExampleChat/5.%d.%d (Android 14; Pixel 8)",
            "ExampleChat/5.%d.%d (iPhone; iOS 17.4)", "Mozilla/5.0 (X11; Linux x86_64) Firefox/12%d.%d",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/60%d.%d", "okhttp/4.%d.%d", "Dart/3.%d (dart:io) b%d");

    /**
     * One client device: its address (sent as {@code X-Forwarded-For}, which the demo's closewatch
     * trusts from loopback) and {@code User-Agent}.
     */
    record Device(String address, String userAgent) {
        Map<String, String> headers() {
            return Map.of("X-Forwarded-For", address, "User-Agent", userAgent);
        }
    }

    /** The population: two /24s of documentation addresses, 6 apps × 4 × 10 versions. */
    static final List<Device> DEVICES = IntStream.range(0, POPULATION)
            .mapToObj(i -> new Device((i % 2 == 0 ? "203.0.113." : "198.51.100.") + (1 + i / 2),
                    String.format(APPS.get(i % APPS.size()), (i / APPS.size()) % 4, i % 10)))
            .toList();
    static final Device NOISY = new Device(NOISY_ADDRESS, NOISY_USER_AGENT);

    private final URI target;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final Semaphore inFlight = new Semaphore(64);
    /** The idle clients hold their sessions for the relay's timeout: a cap of their own. */
    private final Semaphore idleInFlight = new Semaphore(64);
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
        scheduler.scheduleAtFixedRate(this::startOne, 0, periodMicros(sessionsPerSecond), TimeUnit.MICROSECONDS);
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
        long n = next.getAndIncrement();
        Scenario scenario = Scenario.MIX.get((int) (n % Scenario.MIX.size()));
        // a stride coprime with the population: every device meets every scenario
        Device device = DEVICES.get((int) ((n * 7) % DEVICES.size()));
        run(scenario, target, device.headers()).whenComplete((v, e) -> {
            inFlight.release();
            if (e != null) {
                failures.incrementAndGet();
                LOG.debug("demo session '{}' failed: {}", scenario.name(), e.toString());
            }
        });
    }

    /** Runs one session of {@code scenario} with no extra headers; completes when the client has seen it end. */
    public CompletableFuture<Void> run(Scenario scenario) {
        return run(scenario, target, Map.of());
    }

    /**
     * The top offender: {@code sessionsPerSecond} sessions a second from {@link #NOISY}, each ended
     * by the upstream dropping TCP (1006), so {@code GET /api/top?by=user_agent&category=abnormal}
     * (and {@code by=client}) ranks it first.
     */
    public void startNoisyClient(double sessionsPerSecond) {
        Scenario upstreamDrop = Scenario.MIX.stream().filter(s -> "drop".equals(s.command())).findFirst().orElseThrow();
        scheduler.scheduleAtFixedRate(() -> {
            if (inFlight.tryAcquire()) {
                run(upstreamDrop, target, NOISY.headers()).whenComplete((v, e) -> inFlight.release());
            }
        }, 0, periodMicros(sessionsPerSecond), TimeUnit.MICROSECONDS);
    }

    /**
     * Clients behind an intermediary: {@code sessionsPerSecond} sessions a second to
     * {@code viaRelay} (an {@link IdleCutRelay} in front of closewatch), each sending one message and
     * then staying silent until the relay cuts it (the client sees the connection end with no Close
     * frame). Devices come from the population.
     */
    public void startIdleClients(URI viaRelay, double sessionsPerSecond) {
        AtomicLong n = new AtomicLong();
        scheduler.scheduleAtFixedRate(() -> {
            if (idleInFlight.tryAcquire()) {
                Device device = DEVICES.get((int) ((n.getAndIncrement() * 11) % DEVICES.size()));
                // a client that never noticed the cut gives up at the session timeout and aborts
                connect(viaRelay, device.headers(), (ws, done) -> done.whenComplete((v, e) -> ws.abort()))
                        .whenComplete((v, e) -> idleInFlight.release());
            }
        }, 0, periodMicros(sessionsPerSecond), TimeUnit.MICROSECONDS);
    }

    /**
     * Clients that reconnect after the server ends their session with 1013 Try Again Later, each
     * with a stable key in {@link #CLIENT_KEY_HEADER}: {@code storming} of them ({@code storm-N})
     * reconnect at once every time, {@code backingOff} ({@code backoff-N}) wait
     * {@link #BACKOFF_FIRST}, twice that, ... ({@link #BACKOFF_STEPS} times), then end a session
     * themselves (Close 1000) and start over. Each session holds for {@code hold} before the
     * server's Close.
     */
    public void startReconnectingClients(int storming, int backingOff, Duration hold) {
        for (int i = 1; i <= storming; i++) {
            reconnectLoop("storm-" + i, false, 0, hold);
        }
        for (int i = 1; i <= backingOff; i++) {
            reconnectLoop("backoff-" + i, true, 0, hold);
        }
    }

    private void reconnectLoop(String key, boolean backOff, int attempt, Duration hold) {
        if (scheduler.isShutdown()) {
            return;
        }
        boolean cleanEnd = backOff && attempt == BACKOFF_STEPS;
        Map<String, String> headers = Map.of(CLIENT_KEY_HEADER, key, "User-Agent", "ExampleChat/5.0.0 (" + key + ")");
        connect(target, headers, (ws, done) -> {
            CompletableFuture<Void> held = new CompletableFuture<Void>().completeOnTimeout(null, hold.toMillis(),
                    TimeUnit.MILLISECONDS);
            return held.thenCompose(v -> cleanEnd
                    ? ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").thenCompose(w -> done)
                    : ws.sendText(TRY_AGAIN_LATER, true).thenCompose(w -> done));
        }).whenComplete((v, e) -> {
            if (e != null) {
                failures.incrementAndGet();
            }
            int nextAttempt = cleanEnd ? 0 : attempt + 1;
            long delayMillis = !backOff ? 0 : cleanEnd ? 1000 : BACKOFF_FIRST.toMillis() << Math.min(attempt, BACKOFF_STEPS);
            try {
                scheduler.schedule(() -> reconnectLoop(key, backOff, nextAttempt, hold), delayMillis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // the demo is ending
            }
        });
    }

    private static long periodMicros(double perSecond) {
        return Math.max(1, Math.round(1_000_000 / Math.max(0.001, perSecond)));
    }

    /** One session of {@code scenario} to {@code uri} with {@code headers}. */
    CompletableFuture<Void> run(Scenario scenario, URI uri, Map<String, String> headers) {
        return connect(uri, headers, (ws, done) -> end(ws, scenario, done));
    }

    /** What a session does after its first echo: given the socket and the future of its end. */
    private interface Then {
        CompletableFuture<Void> after(WebSocket ws, CompletableFuture<Void> done);
    }

    /**
     * Opens a session to {@code uri}, sends one message, waits for its echo, then does {@code then};
     * completes when the client has seen the session end (at most 30 s).
     */
    private CompletableFuture<Void> connect(URI uri, Map<String, String> headers, Then then) {
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
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        headers.forEach(builder::header);
        builder.buildAsync(uri, listener)
                .thenCompose(ws -> ws.sendText("hello from the closewatch demo", true)
                        .thenCompose(w -> echoed)
                        .thenCompose(echo -> then.after(ws, done)))
                .whenComplete((v, e) -> {
                    if (e != null) {
                        done.completeExceptionally(e);
                    }
                });
        return done.orTimeout(30, TimeUnit.SECONDS);
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
