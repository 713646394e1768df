package dev.closewatch.diagnose;

import static java.util.Objects.requireNonNull;

import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds timeout signatures in the close events: per route and leg, the abnormal ends of the last
 * {@code diagnosis.window}; when at least {@code min_count} of them, and at least
 * {@code min_share} of all of them, lie within ±max({@code tolerance}, {@code tolerance_ratio} ×
 * value) of one idle time (or one session lifetime), that is a {@link Signature}: an
 * intermediary's timeout on that leg.
 *
 * <p>What counts as an abnormal end: a 1006 (no Close frame; the leg is the side whose TCP went
 * first) or a 1000/1001 Close that was never answered (an intermediary's Close before it cuts;
 * the leg is the Close's sender), ended by {@code fin} or {@code reset}. closewatch's own ends
 * (initiator {@code proxy}: idle timeout, drain, oversized frame) and its ping timeout (cause
 * {@code ping_timeout}) never count, so its own timeouts are never reported as a foreign
 * signature.
 *
 * <p>A value within its own tolerance of 0 is never a signature: sessions cut while traffic
 * flows (a crashed backend, a lifetime cap) all have idle times near 0.
 *
 * <p>Idle or lifetime: every end's idle time (since the last bytes from either side) is a
 * candidate for an idle signature; its lifetime is a candidate for a lifetime signature only if
 * traffic crossed after the tolerance of its start, i.e. {@code lifetime − idle > tolerance}: a
 * session silent all its life cannot tell the two apart, and idle timeouts are the likelier.
 *
 * <p>Reports: one WARN line on logger {@value #LOGGER}, {@code event=websocket.diagnosis
 * state=appeared|cleared route leg kind seconds count total since culprits remedy}, when a
 * signature appears and when it clears; the gauge
 * {@code closewatch_diagnosis_signature{route,leg,kind,seconds}}: one series per route (from its
 * first session end), leg and kind, {@code seconds="none"} with value 0 while there is no
 * signature, else the signature's bucket with the matching ends in the window as value (so
 * dashboards and alerts always have a series to read); {@link #signatures()} for
 * {@code GET /api/diagnosis}.
 *
 * <p>Cost: the close events are recorded under this object's lock (O(1)); the search (a sort of
 * the window's values per route and leg) runs at most once a second per route and leg, on a
 * close event or on {@link #tick()}. At most {@value #MAX_SAMPLES} ends per route and leg are
 * kept (the oldest go first). Thread-safe.
 */
public final class SignatureDetector implements Consumer<CloseEvent>, AutoCloseable {

    /** Logger name of the diagnosis lines. */
    public static final String LOGGER = "closewatch.diagnosis";
    /** The {@code event} value of the diagnosis lines. */
    public static final String EVENT = "websocket.diagnosis";
    /** The {@code seconds} label's buckets; a value goes to the nearest (by ratio), above the last to {@code more}. */
    public static final List<Integer> BUCKETS_SECONDS = List.of(1, 2, 3, 5, 10, 15, 20, 30, 45, 55, 60, 90, 100, 120,
            180, 240, 300, 350, 600, 900, 1800, 3600, 7200);
    /** The {@code seconds} label while a route, leg and kind has no signature. */
    public static final String NONE = "none";
    /** Abnormal ends kept per route and leg. */
    public static final int MAX_SAMPLES = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
    private static final long EVALUATE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final DiagnosisConfig config;
    private final Intermediaries intermediaries;
    private final MeterRegistry registry;
    private final LongSupplier nanoClock;
    private final Clock wallClock;
    private final long windowNanos;
    private final Map<Key, Window> windows = new HashMap<>();
    private final Map<SignatureKey, Active> active = new HashMap<>();
    /** The gauge series of each route, leg and kind: {@code seconds="none"} 0, or the signature's bucket. */
    private final Map<SignatureKey, Gauge> series = new HashMap<>();
    /** Routes whose series exist (series are replaced, never removed): one string lookup per close. */
    private final Set<String> seeded = new HashSet<>();
    private ScheduledExecutorService ticker;

    /**
     * A detector that searches on close events only; call {@link #tick()} to re-check windows
     * with no new events (a signature clears when its ends leave the window).
     *
     * @param nanoClock monotonic nanoseconds ({@code System::nanoTime} outside tests)
     * @param wallClock for {@code since} and {@code detected_at}
     */
    public SignatureDetector(DiagnosisConfig config, Intermediaries intermediaries, MeterRegistry registry,
                             LongSupplier nanoClock, Clock wallClock) {
        this.config = requireNonNull(config, "config");
        this.intermediaries = requireNonNull(intermediaries, "intermediaries");
        this.registry = requireNonNull(registry, "registry");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
        this.wallClock = requireNonNull(wallClock, "wallClock");
        this.windowNanos = config.window().toNanos();
    }

    /**
     * A detector on the system clocks that re-checks every window once a second from a daemon
     * thread ({@code closewatch-diagnosis}); close it to stop the thread.
     */
    public static SignatureDetector start(DiagnosisConfig config, Intermediaries intermediaries, MeterRegistry registry) {
        SignatureDetector detector = new SignatureDetector(config, intermediaries, registry, System::nanoTime,
                Clock.systemUTC());
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "closewatch-diagnosis");
            t.setDaemon(true);
            return t;
        });
        synchronized (detector) {
            detector.ticker = ticker;
        }
        ticker.scheduleWithFixedDelay(() -> {
            try {
                detector.tick();
            } catch (RuntimeException e) {
                LOG.warn("diagnosis tick failed", e);
            }
        }, 1, 1, TimeUnit.SECONDS);
        return detector;
    }

    /**
     * Whether {@code e} is an abnormal end that an intermediary may have caused (see the class
     * comment): closewatch's own timeouts and closes are not.
     */
    static boolean counts(CloseEvent e) {
        if (e.initiator() == Initiator.PROXY || (e.cause() != Cause.FIN && e.cause() != Cause.RESET)) {
            return false;
        }
        return e.code() == 1006 || ((e.code() == 1000 || e.code() == 1001) && !e.clean());
    }

    /** Records a session end; called on the session's event loop, quick. */
    @Override
    public synchronized void accept(CloseEvent e) {
        if (seeded.add(e.route())) {
            for (Leg leg : Leg.values()) {
                for (TimeoutKind kind : TimeoutKind.values()) {
                    SignatureKey key = new SignatureKey(e.route(), leg, kind);
                    series.put(key, gauge(key, NONE, new AtomicLong()));
                }
            }
        }
        if (!counts(e)) {
            return;
        }
        long now = nanoClock.getAsLong();
        Key key = new Key(e.route(), Leg.of(e.initiator()));
        Window w = windows.computeIfAbsent(key, k -> new Window());
        w.add(new Sample(now, wallClock.millis(), e.idle().toMillis(), e.duration().toMillis()));
        if (w.samples.size() >= config.minCount() && (w.evaluatedAt == null || now - w.evaluatedAt >= EVALUATE_EVERY_NANOS)) {
            evaluate(key, w, now);
        }
    }

    /** Re-checks every route and leg now: ends that left the window no longer count. */
    public synchronized void tick() {
        long now = nanoClock.getAsLong();
        Iterator<Map.Entry<Key, Window>> it = windows.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Key, Window> entry = it.next();
            evaluate(entry.getKey(), entry.getValue(), now);
            if (entry.getValue().samples.isEmpty()) {
                it.remove();
            }
        }
    }

    /** The signatures reported now, by route, leg and kind. */
    public synchronized List<Signature> signatures() {
        return active.values().stream().map(a -> a.signature)
                .sorted(Comparator.comparing(Signature::route).thenComparing(Signature::leg).thenComparing(Signature::kind))
                .toList();
    }

    /** The settings in use. */
    public DiagnosisConfig config() {
        return config;
    }

    private void evaluate(Key key, Window w, long now) {
        w.evictBefore(now - windowNanos);
        w.evaluatedAt = now;
        int total = w.samples.size();
        for (TimeoutKind kind : TimeoutKind.values()) {
            Signature found = null;
            if (total >= config.minCount()) {
                long[] values = w.samples.stream()
                        .filter(s -> kind == TimeoutKind.IDLE || s.lifetimeMs - s.idleMs > toleranceMillis(s.lifetimeMs))
                        .mapToLong(s -> kind == TimeoutKind.IDLE ? s.idleMs : s.lifetimeMs)
                        .toArray();
                long[] cluster = densest(values);
                // a value within its own tolerance of 0 is no timeout: ends cut while traffic flows
                // (a crashed backend) have idle times near 0 and must not look like one
                if (cluster != null && cluster[0] > toleranceMillis(cluster[0])
                        && cluster[1] >= config.minCount() && cluster[1] >= config.minShare() * total) {
                    found = signature(key, kind, cluster[0], (int) cluster[1], total,
                            Instant.ofEpochMilli(w.samples.peekFirst().atMillis));
                }
            }
            transition(new SignatureKey(key.route, key.leg, kind), found);
        }
    }

    /** The tolerance around {@code valueMillis}: ±max(tolerance, tolerance_ratio × value). */
    long toleranceMillis(long valueMillis) {
        return Math.max(config.tolerance().toMillis(), Math.round(config.toleranceRatio() * valueMillis));
    }

    /**
     * The value with the most others within its tolerance: {median of those, how many}, or null
     * for no values.
     */
    private long[] densest(long[] values) {
        if (values.length == 0) {
            return null;
        }
        Arrays.sort(values);
        int bestFrom = 0;
        int bestTo = 0;
        for (int i = 0; i < values.length; i++) {
            long tol = toleranceMillis(values[i]);
            int from = lowerBound(values, values[i] - tol);
            int to = lowerBound(values, values[i] + tol + 1);
            if (to - from > bestTo - bestFrom) {
                bestFrom = from;
                bestTo = to;
            }
        }
        return new long[] {values[(bestFrom + bestTo - 1) / 2], bestTo - bestFrom};
    }

    /** The first index whose value is at least {@code v}. */
    private static int lowerBound(long[] sorted, long v) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private Signature signature(Key key, TimeoutKind kind, long valueMillis, int count, int total, Instant since) {
        List<Intermediary> culprits = intermediaries.matching(kind, valueMillis, toleranceMillis(valueMillis));
        String value = String.format(Locale.ROOT, "%.1f s", valueMillis / 1000.0);
        String timeout = timeoutText(valueMillis);
        String text = String.format(Locale.ROOT,
                "Abnormal ends (1006 or an unanswered Close) from the %s side of route %s after %s %s (%d of %d since %s):"
                        + " %s of %s %s",
                key.leg.label(), key.route, value, kind == TimeoutKind.IDLE ? "idle" : "of life", count, total,
                since.truncatedTo(ChronoUnit.SECONDS),
                kind == TimeoutKind.IDLE ? "an idle timeout" : "a maximum connection lifetime", timeout, key.leg.where());
        String likely = culprits.isEmpty() ? ""
                : " (likely: " + culprits.stream().map(i -> i.product() + " " + i.setting() + ", default "
                        + timeoutText(i.defaultValue().toMillis())).collect(Collectors.joining("; ")) + ")";
        String remedy;
        if (kind == TimeoutKind.LIFETIME) {
            remedy = "A lifetime cap ends sessions whatever their traffic, so Pings do not help: raise it" + likely
                    + ", or have clients reconnect (with back-off) before " + timeout + ".";
        } else if (key.leg == Leg.CLIENT) {
            remedy = "Raise that idle timeout above the longest quiet time of a session" + likely
                    + ", or keep the leg busy: closewatch's keepalive.ping_interval below " + timeoutText(valueMillis / 2)
                    + " sends Pings to the clients, whose Pongs cross that leg.";
        } else {
            remedy = "Raise that idle timeout above the longest quiet time of a session" + likely
                    + ", or make traffic cross that leg more often than every " + timeout
                    + ": the upstream or the clients send a Ping or a message (the clients' Pongs to closewatch's"
                    + " keepalive.ping_interval Pings travel on to the upstream).";
        }
        return new Signature(key.route, key.leg, kind, valueMillis, bucket(valueMillis), count, total, since,
                wallClock.instant(), culprits, text, remedy);
    }

    /** {@code 60 s}, {@code 2.5 s}. */
    private static String timeoutText(long millis) {
        return millis >= 10_000 || millis % 1000 == 0
                ? Math.round(millis / 1000.0) + " s"
                : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    /** The nearest bucket of {@link #BUCKETS_SECONDS} by ratio; {@code more} beyond 1.5 × the last. */
    static String bucket(long valueMillis) {
        double seconds = valueMillis / 1000.0;
        int last = BUCKETS_SECONDS.get(BUCKETS_SECONDS.size() - 1);
        if (seconds > last * 1.5) {
            return "more";
        }
        int best = BUCKETS_SECONDS.get(0);
        double bestDistance = Double.MAX_VALUE;
        for (int b : BUCKETS_SECONDS) {
            double d = Math.abs(Math.log(Math.max(seconds, 0.001) / b));
            if (d < bestDistance) {
                bestDistance = d;
                best = b;
            }
        }
        return Integer.toString(best);
    }

    private void transition(SignatureKey key, Signature found) {
        Active current = active.get(key);
        if (found == null) {
            if (current != null) {
                clear(key, current);
            }
            return;
        }
        if (current != null && Math.abs(current.signature.valueMillis() - found.valueMillis())
                <= toleranceMillis(current.signature.valueMillis())) {
            // the same timeout, seen again: refresh value and counts; keep when it appeared and
            // its metric label, so the gauge stays one series and nothing is logged again
            Signature s = current.signature;
            current.signature = new Signature(s.route(), s.leg(), s.kind(), found.valueMillis(), s.seconds(),
                    found.count(), found.total(), found.since(), s.detectedAt(), found.culprits(), found.text(),
                    found.remedy());
            current.gaugeValue.set(found.count());
            return;
        }
        if (current != null) {
            clear(key, current);
        }
        appear(key, found);
    }

    private void appear(SignatureKey key, Signature s) {
        AtomicLong value = new AtomicLong(s.count());
        replaceSeries(key, gauge(key, s.seconds(), value));
        active.put(key, new Active(s, value));
        log("appeared", s, s.text());
    }

    private void clear(SignatureKey key, Active current) {
        active.remove(key);
        replaceSeries(key, gauge(key, NONE, new AtomicLong()));
        Signature s = current.signature;
        log("cleared", s, "Cleared: " + s.text());
    }

    /** One series per route, leg and kind at any time: the old one goes from the registry. */
    private void replaceSeries(SignatureKey key, Gauge next) {
        Gauge old = series.put(key, next);
        if (old != null && old != next) {
            registry.remove(old);
        }
    }

    private Gauge gauge(SignatureKey key, String seconds, AtomicLong value) {
        return Gauge.builder(MeterNames.DIAGNOSIS_SIGNATURE, value, AtomicLong::get)
                .description("Timeout signatures: the abnormal ends in the diagnosis window at the signature's idle "
                        + "time or lifetime (label seconds); seconds=\"none\" and 0 while there is none")
                .tags(MeterNames.TAG_ROUTE, key.route, MeterNames.TAG_LEG, key.leg.label(), MeterNames.TAG_KIND,
                        key.kind.label(), MeterNames.TAG_SECONDS, seconds)
                .strongReference(true)
                .register(registry);
    }

    private static void log(String state, Signature s, String message) {
        LOG.atWarn()
                .addKeyValue("event", EVENT)
                .addKeyValue("state", state)
                .addKeyValue("route", s.route())
                .addKeyValue("leg", s.leg().label())
                .addKeyValue("kind", s.kind().label())
                .addKeyValue("seconds", String.format(Locale.ROOT, "%.1f", s.valueMillis() / 1000.0))
                .addKeyValue("count", s.count())
                .addKeyValue("total", s.total())
                .addKeyValue("since", s.since().truncatedTo(ChronoUnit.SECONDS))
                .addKeyValue("culprits", s.culprits().stream().map(i -> i.product() + " " + i.setting())
                        .collect(Collectors.joining("; ")))
                .addKeyValue("remedy", s.remedy())
                .log(message);
    }

    /** Stops the once-a-second re-check, if {@link #start} started one. */
    @Override
    public void close() {
        ScheduledExecutorService t;
        synchronized (this) {
            t = ticker;
            ticker = null;
        }
        if (t != null) {
            t.shutdownNow();
        }
    }

    private record Key(String route, Leg leg) {
    }

    private record SignatureKey(String route, Leg leg, TimeoutKind kind) {
    }

    private record Sample(long atNanos, long atMillis, long idleMs, long lifetimeMs) {
    }

    private static final class Active {
        Signature signature;
        final AtomicLong gaugeValue;

        Active(Signature signature, AtomicLong gaugeValue) {
            this.signature = signature;
            this.gaugeValue = gaugeValue;
        }
    }

    /** The abnormal ends of one route and leg, oldest first. */
    private static final class Window {
        final ArrayDeque<Sample> samples = new ArrayDeque<>();
        Long evaluatedAt;

        void add(Sample s) {
            if (samples.size() == MAX_SAMPLES) {
                samples.removeFirst();
            }
            samples.addLast(s);
        }

        void evictBefore(long nanos) {
            while (!samples.isEmpty() && samples.peekFirst().atNanos - nanos < 0) {
                samples.removeFirst();
            }
        }
    }
}
