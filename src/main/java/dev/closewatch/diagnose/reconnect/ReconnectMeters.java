package dev.closewatch.diagnose.reconnect;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Category;
import dev.closewatch.catalog.CloseCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.ToIntFunction;

/**
 * The reconnect meters, built once per label set and cached (the hot path never queries the
 * registry). Labels are bounded: route names from the configuration, {@code previous_category}
 * and {@code previous_code} from the close-code catalog as in {@code closewatch_closes_total}.
 *
 * <ul>
 *   <li>{@code closewatch_reconnect_delay_seconds{route,previous_category}} — histogram of the
 *       time from a session's end to the same client key's next opening handshake (101), when
 *       within {@code reconnect.window};</li>
 *   <li>{@code closewatch_reconnects_total{route,previous_code}} — those reconnects, by the status
 *       code that ended the previous session;</li>
 *   <li>{@code closewatch_reconnect_storm_clients{route}} — gauge of client keys now in a reconnect
 *       storm.</li>
 * </ul>
 */
public final class ReconnectMeters {

    public static final String RECONNECT_DELAY = "closewatch.reconnect.delay";
    public static final String RECONNECTS = "closewatch.reconnects";
    public static final String STORM_CLIENTS = "closewatch.reconnect.storm.clients";
    public static final String TAG_PREVIOUS_CATEGORY = "previous_category";
    public static final String TAG_PREVIOUS_CODE = "previous_code";

    /** Histogram buckets: immediate (≤ 10 ms) to the default window (10 min). */
    static final Duration[] DELAY_BUCKETS = {
        Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120),
        Duration.ofSeconds(300), Duration.ofSeconds(600)};

    private final MeterRegistry registry;
    private final Map<String, RouteReconnects> byRoute = new ConcurrentHashMap<>();
    private final Map<String, Gauge> stormGauges = new ConcurrentHashMap<>();
    private volatile ToIntFunction<String> stormClients = route -> 0;

    public ReconnectMeters(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
    }

    /** Where the storm gauge reads the number of storming keys of a route (the current tracker). */
    void stormClients(ToIntFunction<String> source) {
        this.stormClients = requireNonNull(source, "source");
    }

    /** Registers the route's storm gauge (0 until a storm), so the series exists before the first one. */
    void route(String route) {
        if (!stormGauges.containsKey(route)) {
            stormGauges.computeIfAbsent(route, r -> Gauge.builder(STORM_CLIENTS, () -> stormClients.applyAsInt(r))
                    .description("Client keys now reconnecting again and again without back-off after abnormal or server-side closes")
                    .tag("route", r).register(registry));
        }
    }

    void reconnect(String route, CloseCode previous, Duration delay) {
        route(route);
        RouteReconnects meters = byRoute.computeIfAbsent(route, r -> new RouteReconnects());
        String category = previous.category().label();
        int at = previous.category().ordinal();
        Timer timer = meters.delays.get(at);
        if (timer == null) {
            // A race registers the same timer twice: the registry hands back the one it holds.
            timer = Timer.builder(RECONNECT_DELAY)
                    .description("Time from a session's end to the same client key's next session, within reconnect.window")
                    .serviceLevelObjectives(DELAY_BUCKETS).tags("route", route, TAG_PREVIOUS_CATEGORY, category)
                    .register(registry);
            meters.delays.set(at, timer);
        }
        timer.record(delay);
        meters.reconnects.computeIfAbsent(previous.label(), code -> Counter.builder(RECONNECTS)
                .description("Sessions opened by a client key within reconnect.window of its previous session's end")
                .tags("route", route, TAG_PREVIOUS_CODE, code).register(registry)).increment();
    }

    /** One route's reconnect meters: no key is built per reconnect (every churned session is one). */
    private static final class RouteReconnects {
        final AtomicReferenceArray<Timer> delays = new AtomicReferenceArray<>(Category.values().length);
        final Map<String, Counter> reconnects = new ConcurrentHashMap<>();
    }
}
