package dev.closewatch.testing;

import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.cli.CloseWatchApp;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.DrainConfig;
import dev.closewatch.config.UpstreamConfig;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.websocket.CloseEvent;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.LoggerFactory;

/**
 * closewatch running in-process on 127.0.0.1 (ephemeral ports) in front of a {@link RawUpstream},
 * with every close event and close log line captured. {@link #close()} asserts the
 * {@link Accounting} invariants (sessions opened = closes recorded, {@code sessions_active} back
 * to 0, every 101 a session, labels and bytes matching the close events) before it stops the
 * proxy, so every end-to-end test that uses a harness checks them.
 */
public final class ProxyHarness implements AutoCloseable {

    public final RawUpstream upstream;
    public final CloseWatchApp app;
    private final LinkedBlockingQueue<CloseEvent> events = new LinkedBlockingQueue<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger closeLog = (Logger) LoggerFactory.getLogger(CloseLogger.LOGGER);
    private final Accounting accounting;

    private ProxyHarness(RawUpstream upstream, CloseWatchApp app) {
        this.upstream = upstream;
        this.app = app;
        this.accounting = Accounting.attach(app);
        app.observability().addCloseConsumer(events::add);
        logs.start();
        closeLog.addAppender(logs);
    }

    public static ProxyHarness start() throws Exception {
        return start(c -> c);
    }

    /** Starts with the default configuration changed by {@code customize}. */
    public static ProxyHarness start(UnaryOperator<CloseWatchConfig> customize) throws Exception {
        RawUpstream upstream = new RawUpstream();
        CloseWatchConfig config = CloseWatchConfig.defaults().withListen("127.0.0.1:0").withAdmin("127.0.0.1:0")
                .withUpstream("ws://127.0.0.1:" + upstream.port())
                .withUpstreamTimeouts(new UpstreamConfig(Duration.ofSeconds(2), Duration.ofSeconds(5)))
                // drain at once (no unready delay, no spread) unless a test asks for them
                .withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO, null, null, null, null));
        return new ProxyHarness(upstream, CloseWatchApp.start(customize.apply(config)));
    }

    public int port() {
        return app.proxy().address().getPort();
    }

    public int adminPort() {
        return app.admin().address().getPort();
    }

    /** The next close event; fails after 10 s. */
    public CloseEvent nextEvent() throws InterruptedException {
        CloseEvent e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no close event within 10 s");
        }
        return e;
    }

    /** Close events not yet taken. */
    public List<CloseEvent> pendingEvents() {
        return new ArrayList<>(events);
    }

    /** Forgets captured events and log lines. */
    public void clear() {
        events.clear();
        logs.list.clear();
    }

    /** Captured close log lines. */
    public List<ILoggingEvent> logLines() {
        return new ArrayList<>(logs.list);
    }

    /** The close log line of session {@code id}, waiting for it. */
    public ILoggingEvent logLine(String sessionId) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> logs.list.stream()
                .filter(l -> sessionId.equals(kv(l, "session"))).findFirst().orElse(null), l -> l != null);
    }

    /** The value of key {@code key} in a log line's key-value pairs, or null. */
    public static Object kv(ILoggingEvent line, String key) {
        if (line.getKeyValuePairs() == null) {
            return null;
        }
        return line.getKeyValuePairs().stream().filter(p -> p.key.equals(key)).map(p -> p.value).findFirst().orElse(null);
    }

    /** The sum of the counters with these tags, whatever their other labels (0 if none exists yet). */
    public double count(String name, String... tags) {
        // Summed over the labels not named (sum by in PromQL): e.g. every upstream of a route.
        return app.registry().find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }

    /** The accounting of this proxy's close events and meters. */
    public Accounting accounting() {
        return accounting;
    }

    /**
     * Waits (at most 10 s) for every session to end and the {@link Accounting} invariants to hold,
     * then stops the proxy and the upstream; fails, after stopping them, if the invariants never
     * held.
     */
    @Override
    public void close() throws Exception {
        try {
            accounting.assertBalanced(Duration.ofSeconds(10));
        } finally {
            closeLog.detachAppender(logs);
            app.close();
            upstream.close();
        }
    }
}
