package dev.closewatch.testing;

import static dev.closewatch.observe.MeterNames.ABNORMAL_CLOSURES;
import static dev.closewatch.observe.MeterNames.BYTES;
import static dev.closewatch.observe.MeterNames.CLOSES;
import static dev.closewatch.observe.MeterNames.CLOSE_HANDSHAKES_INCOMPLETE;
import static dev.closewatch.observe.MeterNames.CLOSE_HANDSHAKE_DURATION;
import static dev.closewatch.observe.MeterNames.SESSIONS_ACTIVE;
import static dev.closewatch.observe.MeterNames.SESSIONS_OPENED;
import static dev.closewatch.observe.MeterNames.SESSION_DURATION;
import static dev.closewatch.observe.MeterNames.TAG_CATEGORY;
import static dev.closewatch.observe.MeterNames.TAG_CAUSE;
import static dev.closewatch.observe.MeterNames.TAG_CODE;
import static dev.closewatch.observe.MeterNames.TAG_DIRECTION;
import static dev.closewatch.observe.MeterNames.TAG_INITIATOR;
import static dev.closewatch.observe.MeterNames.TAG_ROUTE;
import static dev.closewatch.observe.MeterNames.TAG_STATUS;
import static dev.closewatch.observe.MeterNames.TAG_UPSTREAM;
import static dev.closewatch.observe.MeterNames.UPGRADES;
import static org.awaitility.Awaitility.await;

import dev.closewatch.catalog.Category;
import dev.closewatch.cli.CloseWatchApp;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The accounting invariants of a running closewatch: what its meters say must add up with each
 * other and with the close events it delivered. Attached to an app before its first connection,
 * it tallies every close event on its own (independent of what a test takes or clears), and
 * {@link #violations()} compares, once every session has ended:
 *
 * <ul>
 *   <li>every 101 relayed is a session: {@code upgrades_total{status="101"}} =
 *       {@code sessions_opened_total}, per route ({@code sessions_opened_total} summed over its
 *       {@code upstream} label, as {@code sum by (route)} does; every series has that label);</li>
 *   <li>no session is left: {@code sessions_active} = 0 on every route, and the proxy's and the
 *       admin API's tables of open sessions are empty;</li>
 *   <li>every opened session ended exactly once: the count of
 *       {@code session_duration_seconds} = {@code sessions_opened_total}, per route;</li>
 *   <li>every close recorded was delivered: {@code closes_total} = the close events delivered to
 *       the close consumers, and = sessions opened + open failures (a failed TLS handshake is a
 *       1015 close with no session, {@code SessionListener.onOpenFailed}), per route;</li>
 *   <li>the labels agree with the events: {@code closes_total} by (route, code, category,
 *       initiator), {@code abnormal_closures_total} by (route, initiator, cause),
 *       {@code close_handshakes_incomplete_total} by (route, initiator) = events with a Close
 *       frame that are not clean, the count of {@code close_handshake_duration_seconds} = events
 *       with a completed close handshake, and {@code bytes_total} by (route, direction) = the
 *       events' byte counts.</li>
 * </ul>
 *
 * <p>Thread-safe: events arrive on the event loops.
 */
public final class Accounting implements Consumer<CloseEvent> {

    private final CloseWatchApp app;
    private final List<CloseEvent> events = new ArrayList<>();

    private Accounting(CloseWatchApp app) {
        this.app = app;
    }

    /** Starts tallying {@code app}'s close events; call before any connection reaches it. */
    public static Accounting attach(CloseWatchApp app) {
        Accounting accounting = new Accounting(app);
        app.observability().addCloseConsumer(accounting);
        return accounting;
    }

    @Override
    public synchronized void accept(CloseEvent event) {
        events.add(event);
    }

    /** Close events delivered so far (a copy). */
    public synchronized List<CloseEvent> events() {
        return new ArrayList<>(events);
    }

    /** A 1015 recorded for a would-be session whose TLS handshake failed before any 101. */
    static boolean openFailure(CloseEvent e) {
        return e.cause() == Cause.TLS_HANDSHAKE && !e.closeFrameSeen();
    }

    /**
     * Waits up to {@code atMost} for the invariants to hold (sessions still ending, events still
     * on their way), then fails with every one that does not.
     *
     * @throws AssertionError naming each broken invariant with both sides' figures
     */
    public void assertBalanced(Duration atMost) {
        try {
            await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20)).atMost(atMost)
                    .until(() -> violations().isEmpty());
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("closewatch accounting does not add up after " + atMost + ":\n  "
                    + String.join("\n  ", violations()));
        }
    }

    /** The invariants that do not hold now, each with both sides' figures; empty when all hold. */
    public List<String> violations() {
        List<CloseEvent> delivered = events();
        MeterRegistry registry = app.registry();
        List<String> broken = new ArrayList<>();

        // Summed over the upstream label: per route, whichever configured upstream took the session.
        Map<String, Double> opened = sum(registry.find(SESSIONS_OPENED).counters(), Counter::count, TAG_ROUTE);
        for (Counter c : registry.find(SESSIONS_OPENED).counters()) {
            if (c.getId().getTag(TAG_UPSTREAM) == null) {
                broken.add("sessions_opened_total{route=" + c.getId().getTag(TAG_ROUTE) + "} has no upstream label");
            }
        }
        Map<String, Double> upgraded = sum(registry.find(UPGRADES).tag(TAG_STATUS, "101").counters(), Counter::count,
                TAG_ROUTE);
        check(broken, "every 101 relayed is a session: upgrades_total{status=101} = sessions_opened_total",
                upgraded, opened);

        for (Gauge g : registry.find(SESSIONS_ACTIVE).gauges()) {
            if (g.value() != 0) {
                broken.add("sessions_active{route=" + g.getId().getTag(TAG_ROUTE) + "} = " + g.value() + " (expected 0)");
            }
        }
        int proxyOpen = app.proxy().openSessions();
        if (proxyOpen != 0) {
            broken.add("proxy still tracks " + proxyOpen + " open session(s) (expected 0)");
        }
        int apiOpen = app.observability().openSessions().snapshot().size();
        if (apiOpen != 0) {
            broken.add("/api/sessions still lists " + apiOpen + " open session(s) (expected 0)");
        }

        Map<String, Double> ended = sum(registry.find(SESSION_DURATION).timers(), t -> t.count(), TAG_ROUTE);
        check(broken, "every session opened ended once: count of session_duration_seconds = sessions_opened_total",
                ended, opened);

        Map<String, Double> closes = sum(registry.find(CLOSES).counters(), Counter::count, TAG_ROUTE);
        check(broken, "closes_total = close events delivered", closes,
                tally(delivered, e -> true, CloseEvent::route));
        Map<String, Double> openedPlusFailures = new TreeMap<>(opened);
        tally(delivered, Accounting::openFailure, CloseEvent::route).forEach((r, n) -> openedPlusFailures.merge(r, n, Double::sum));
        check(broken, "closes_total = sessions_opened_total + open failures (1015 before a 101)", closes,
                openedPlusFailures);

        check(broken, "closes_total by route|code|category|initiator = close events",
                sum(registry.find(CLOSES).counters(), Counter::count, TAG_ROUTE, TAG_CODE, TAG_CATEGORY, TAG_INITIATOR),
                tally(delivered, e -> true, e -> key(e.route(), e.classification().label(),
                        e.classification().category().label(), e.initiator().label())));
        check(broken, "abnormal_closures_total by route|initiator|cause = 1006-category close events",
                sum(registry.find(ABNORMAL_CLOSURES).counters(), Counter::count, TAG_ROUTE, TAG_INITIATOR, TAG_CAUSE),
                tally(delivered, e -> e.classification().category() == Category.ABNORMAL,
                        e -> key(e.route(), e.initiator().label(), e.cause().label())));
        check(broken, "close_handshakes_incomplete_total by route|initiator = events with an unanswered Close",
                sum(registry.find(CLOSE_HANDSHAKES_INCOMPLETE).counters(), Counter::count, TAG_ROUTE, TAG_INITIATOR),
                tally(delivered, e -> e.closeFrameSeen() && !e.clean(), e -> key(e.route(), e.initiator().label())));
        check(broken, "count of close_handshake_duration_seconds = events with a completed close handshake",
                sum(registry.find(CLOSE_HANDSHAKE_DURATION).timers(), t -> t.count(), TAG_ROUTE),
                tally(delivered, e -> e.closeHandshakeDuration() != null, CloseEvent::route));

        Map<String, Double> eventBytes = new TreeMap<>();
        for (CloseEvent e : delivered) {
            addBytes(eventBytes, e.route(), Direction.CLIENT_TO_UPSTREAM, e.bytesClientToUpstream());
            addBytes(eventBytes, e.route(), Direction.UPSTREAM_TO_CLIENT, e.bytesUpstreamToClient());
        }
        check(broken, "bytes_total by route|direction = the close events' byte counts",
                sum(registry.find(BYTES).counters(), Counter::count, TAG_ROUTE, TAG_DIRECTION), eventBytes);
        return broken;
    }

    /** Sums of {@code meters}' values grouped by the values of {@code tags}, zero sums left out. */
    private static <M extends Meter> Map<String, Double> sum(Iterable<M> meters, ToDoubleFunction<M> value,
                                                             String... tags) {
        Map<String, Double> sums = new TreeMap<>();
        for (M m : meters) {
            double v = value.applyAsDouble(m);
            if (v != 0) {
                String[] values = new String[tags.length];
                for (int i = 0; i < tags.length; i++) {
                    values[i] = m.getId().getTag(tags[i]);
                }
                sums.merge(key(values), v, Double::sum);
            }
        }
        return sums;
    }

    private static Map<String, Double> tally(List<CloseEvent> events, Predicate<CloseEvent> which,
                                             Function<CloseEvent, String> key) {
        Map<String, Double> counts = new TreeMap<>();
        for (CloseEvent e : events) {
            if (which.test(e)) {
                counts.merge(key.apply(e), 1.0, Double::sum);
            }
        }
        return counts;
    }

    private static void addBytes(Map<String, Double> sums, String route, Direction direction, long bytes) {
        if (bytes != 0) {
            sums.merge(key(route, direction.label()), (double) bytes, Double::sum);
        }
    }

    private static String key(String... parts) {
        return String.join("|", parts);
    }

    private static void check(List<String> broken, String invariant, Map<String, Double> actual,
                              Map<String, Double> expected) {
        if (!Objects.equals(actual, expected)) {
            broken.add(invariant + ": " + actual + " vs " + expected);
        }
    }
}
