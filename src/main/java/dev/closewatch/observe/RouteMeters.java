package dev.closewatch.observe;

import static dev.closewatch.observe.MeterNames.*;
import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.FrameObserver;
import dev.closewatch.websocket.Initiator;
import dev.closewatch.websocket.Opcode;
import dev.closewatch.websocket.Violation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.DoubleSupplier;

/**
 * The meters of one route, built once and held so the relay's hot path never queries the
 * registry. Frame, byte and violation counters are created eagerly (their label sets are enums);
 * close counters are created on first use per (code label, category, initiator), a set bounded by
 * the catalog. Thread-safe: routes are shared by all event loops.
 *
 * <p>Meters (Prometheus names): {@code closewatch_sessions_active},
 * {@code closewatch_sessions_opened_total}, {@code closewatch_closes_total},
 * {@code closewatch_session_duration_seconds}, {@code closewatch_close_handshake_duration_seconds},
 * {@code closewatch_close_handshakes_incomplete_total}, {@code closewatch_upgrades_total},
 * {@code closewatch_upstream_connect_failures_total}, {@code closewatch_frames_total},
 * {@code closewatch_bytes_total}, {@code closewatch_bytes_discarded_total},
 * {@code closewatch_protocol_violations_total}; all tagged {@code route}.
 * {@code closewatch_sessions_opened_total}, {@code closewatch_upstream_connect_failures_total} and
 * {@code closewatch_upstream_healthy_addresses} are also tagged {@code upstream}: the configured
 * upstream as written (see {@link #upstream(String)}), a set bounded by the configuration.
 *
 * <p>Frames and bytes count what was delivered to the receiving endpoint, the proxy's own
 * injected Ping and Close frames included; bytes read and never delivered (after the proxy's own
 * Close, an oversized frame, a peer already gone) go to {@code closewatch_bytes_discarded_total}
 * and their frames are not counted.
 */
public final class RouteMeters implements FrameObserver.CountSink {

    private static final Duration[] SESSION_BUCKETS = {
        Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15),
        Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15),
        Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(4), Duration.ofHours(12), Duration.ofHours(24),
    };
    private static final Duration[] HANDSHAKE_BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
        Duration.ofSeconds(30),
    };

    private static final int INITIATORS = Initiator.values().length;
    private static final int CLOSE_ROW = Category.values().length * INITIATORS;

    private final String route;
    private final MeterRegistry registry;
    private final Tags routeTags;
    private final AtomicLong active = new AtomicLong();
    private final Map<String, UpstreamMeters> upstreams = new ConcurrentHashMap<>();
    private final Counter[][] frames = new Counter[Direction.values().length][Opcode.COUNT];
    private final Counter[] bytes = new Counter[Direction.values().length];
    private final Counter[] bytesDiscarded = new Counter[Direction.values().length];
    private final Counter[][] violations = new Counter[Direction.values().length][Violation.values().length];
    private final Timer closeHandshakeDuration;
    private final Map<Initiator, Counter> incomplete = new EnumMap<>(Initiator.class);
    /**
     * Close counters by code label, each a row by (category, initiator) ordinal: a lookup per close
     * is one string-keyed get (the label's hash is cached) and an array read (volatile, so a meter
     * registered on another event loop is seen whole), not a record key built,
     * hashed and compared.
     */
    private final Map<String, AtomicReferenceArray<Counter>> closes = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<Timer> sessionDuration = new AtomicReferenceArray<>(Category.values().length);
    private final Map<Integer, Counter> upgrades = new ConcurrentHashMap<>();
    private final Map<String, Counter> abnormal = new ConcurrentHashMap<>();

    /**
     * Registers the route's meters.
     *
     * @param route    the configured route name (the {@code route} label)
     * @param registry where the meters live
     */
    public RouteMeters(String route, MeterRegistry registry) {
        this.route = route;
        this.registry = registry;
        this.routeTags = Tags.of(TAG_ROUTE, route);
        Gauge.builder(SESSIONS_ACTIVE, active, AtomicLong::get)
                .description("WebSocket sessions open now (after the 101, before both TCP connections closed)")
                .tags(routeTags).register(registry);
        for (Direction d : Direction.values()) {
            Tags dt = routeTags.and(TAG_DIRECTION, d.label());
            bytes[d.ordinal()] = Counter.builder(BYTES)
                    .description("Bytes delivered after the opening handshake (the proxy's own frames included)")
                    .tags(dt).register(registry);
            bytesDiscarded[d.ordinal()] = Counter.builder(BYTES_DISCARDED)
                    .description("Bytes read after the opening handshake and never delivered")
                    .tags(dt).register(registry);
            for (Opcode op : Opcode.values()) {
                frames[d.ordinal()][op.ordinal()] = Counter.builder(FRAMES)
                        .description("WebSocket frames delivered, by opcode (RFC 6455 §5.2)")
                        .tags(dt.and(TAG_OPCODE, op.label())).register(registry);
            }
            for (Violation v : Violation.values()) {
                violations[d.ordinal()][v.ordinal()] = Counter.builder(PROTOCOL_VIOLATIONS)
                        .description("Frames that broke an RFC 6455 rule (relayed unchanged)")
                        .tags(dt.and(TAG_VIOLATION, v.label())).register(registry);
            }
        }
        closeHandshakeDuration = Timer.builder(CLOSE_HANDSHAKE_DURATION)
                .description("Time from the first Close frame to the answering Close frame")
                .serviceLevelObjectives(HANDSHAKE_BUCKETS).tags(routeTags).register(registry);
        for (Initiator i : Initiator.values()) {
            incomplete.put(i, Counter.builder(CLOSE_HANDSHAKES_INCOMPLETE)
                    .description("Sessions whose first Close frame was never answered before TCP closed")
                    .tags(routeTags.and(TAG_INITIATOR, i.label())).register(registry));
        }
    }

    /** The route name. */
    public String route() {
        return route;
    }

    /**
     * A session opened: counted active. The proxy counts it opened, by upstream, with
     * {@link UpstreamMeters#sessionOpened()}.
     */
    void sessionOpened() {
        active.incrementAndGet();
    }

    void sessionClosed(CloseCode classification, Initiator initiator, String cause, Duration duration,
                       Duration closeHandshake, boolean incompleteHandshake) {
        active.decrementAndGet();
        countClose(classification, initiator, cause);
        Category category = classification.category();
        Timer lifetime = sessionDuration.get(category.ordinal());
        if (lifetime == null) {
            // A race registers the same timer twice: the registry hands back the one it holds.
            lifetime = Timer.builder(SESSION_DURATION)
                    .description("WebSocket session lifetime, from the 101 to both TCP connections closed")
                    .serviceLevelObjectives(SESSION_BUCKETS)
                    .tags(routeTags.and(TAG_CATEGORY, category.label())).register(registry);
            sessionDuration.set(category.ordinal(), lifetime);
        }
        lifetime.record(duration);
        if (closeHandshake != null) {
            closeHandshakeDuration.record(closeHandshake);
        }
        if (incompleteHandshake) {
            incomplete.get(initiator).increment();
        }
    }

    /**
     * A would-be session that failed before its 101 (a TLS handshake failure, 1015): counted in
     * {@code closewatch_closes_total}, but it was never active and has no duration.
     */
    void openFailed(CloseCode classification, Initiator initiator, String cause) {
        countClose(classification, initiator, cause);
    }

    private void countClose(CloseCode classification, Initiator initiator, String cause) {
        if (classification.category() == Category.ABNORMAL) {
            abnormal.computeIfAbsent(initiator.label() + "|" + cause, k -> Counter.builder(ABNORMAL_CLOSURES)
                            .description("1006 Abnormal Closures (no Close frame) by who dropped TCP and how")
                            .tags(routeTags.and(TAG_INITIATOR, initiator.label(), TAG_CAUSE, cause))
                            .register(registry))
                    .increment();
        }
        Category category = classification.category();
        String code = classification.label();
        AtomicReferenceArray<Counter> row = closes.computeIfAbsent(code, c -> new AtomicReferenceArray<>(CLOSE_ROW));
        int at = category.ordinal() * INITIATORS + initiator.ordinal();
        Counter counter = row.get(at);
        if (counter == null) {
            // A race registers the same counter twice: the registry hands back the one it holds.
            counter = Counter.builder(CLOSES)
                    .description("WebSocket session ends by close status code (RFC 6455 §7.4)")
                    .tags(routeTags.and(TAG_CODE, code, TAG_CATEGORY, category.label(),
                            TAG_INITIATOR, initiator.label()))
                    .register(registry);
            row.set(at, counter);
        }
        counter.increment();
    }

    void violation(Direction direction, Violation violation) {
        violations[direction.ordinal()][violation.ordinal()].increment();
    }

    @Override
    public void onCounts(Direction direction, long[] frameCounts, long byteCount) {
        Counter[] row = frames[direction.ordinal()];
        for (int i = 0; i < frameCounts.length; i++) {
            if (frameCounts[i] != 0) {
                row[i].increment(frameCounts[i]);
            }
        }
        bytes[direction.ordinal()].increment(byteCount);
    }

    @Override
    public void onDiscarded(Direction direction, long byteCount) {
        bytesDiscarded[direction.ordinal()].increment(byteCount);
    }

    /**
     * Counts an answered upgrade request.
     *
     * @param status the HTTP status relayed or generated (101 on success); values outside
     *               100–599 are counted as 0 so the label set stays bounded
     */
    public void upgrade(int status) {
        int bounded = status >= 100 && status <= 599 ? status : 0;
        upgrades.computeIfAbsent(bounded, s -> Counter.builder(UPGRADES)
                        .description("WebSocket upgrade requests by HTTP response status")
                        .tags(routeTags.and(TAG_STATUS, Integer.toString(s))).register(registry))
                .increment();
    }

    /**
     * The meters of one configured upstream of this route, created (with every counter at 0) on
     * first call.
     *
     * @param upstream the upstream as configured, e.g. {@code ws://chat:9000}; never a resolved
     *                 address, so the label set stays bounded by the configuration
     */
    public UpstreamMeters upstream(String upstream) {
        return upstreams.computeIfAbsent(upstream, UpstreamMeters::new);
    }

    /**
     * One configured upstream's meters: {@code closewatch_sessions_opened_total},
     * {@code closewatch_upstream_connect_failures_total} (one counter per {@link UpstreamFailure},
     * created at once) and {@code closewatch_upstream_healthy_addresses}, all tagged
     * {@code route} and {@code upstream}.
     */
    public final class UpstreamMeters {

        private final Tags tags;
        private final Counter opened;
        private final Map<UpstreamFailure, Counter> failures = new EnumMap<>(UpstreamFailure.class);
        private volatile DoubleSupplier healthy = () -> 0;

        private UpstreamMeters(String upstream) {
            tags = routeTags.and(TAG_UPSTREAM, upstream);
            opened = Counter.builder(SESSIONS_OPENED).description("WebSocket sessions opened (101 relayed)")
                    .tags(tags).register(registry);
            for (UpstreamFailure f : UpstreamFailure.values()) {
                failures.put(f, Counter.builder(UPSTREAM_CONNECT_FAILURES)
                        .description("Upstream connections that failed or did not answer in time")
                        .tags(tags.and(TAG_CAUSE, f.label())).register(registry));
            }
            Gauge.builder(UPSTREAM_HEALTHY_ADDRESSES, this, m -> m.healthy.getAsDouble())
                    .description("Addresses of the upstream usable now: resolved and not ejected after a failed connect")
                    .tags(tags).strongReference(true).register(registry);
        }

        /** Counts a session opened (a 101 relayed) through this upstream. */
        public void sessionOpened() {
            opened.increment();
        }

        /** Counts a connection to this upstream that could not be made or did not answer. */
        public void failure(UpstreamFailure cause) {
            failures.get(cause).increment();
        }

        /**
         * Where {@code closewatch_upstream_healthy_addresses} reads from at each scrape; replaces
         * the previous source (a proxy started again with the same registry), 0 until set.
         */
        public void healthyAddresses(DoubleSupplier healthy) {
            this.healthy = requireNonNull(healthy, "healthy");
        }
    }
}
