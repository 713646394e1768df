package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Meters of configuration reloads ({@code SIGHUP}, {@code POST /admin/reload}):
 * <ul>
 *   <li>{@code closewatch_config_reloads_total{result="success|failure"}} — counter;</li>
 *   <li>{@code closewatch_config_last_reload_success_timestamp_seconds} — gauge, Unix time in
 *       seconds of the last configuration applied (the start counts as one, as in Prometheus'
 *       own {@code prometheus_config_last_reload_success_timestamp_seconds}).</li>
 * </ul>
 */
public final class ReloadMeters {

    /** {@code closewatch_config_reloads_total{result}}. */
    public static final String CONFIG_RELOADS = "closewatch.config.reloads";
    /** {@code closewatch_config_last_reload_success_timestamp_seconds}. */
    public static final String CONFIG_LAST_RELOAD_SUCCESS = "closewatch.config.last.reload.success.timestamp.seconds";
    public static final String TAG_RESULT = "result";
    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";

    private final Clock clock;
    private final ResultCounters reloads;
    private final AtomicLong lastSuccessMillis;

    /** Registers the meters in {@code registry}; the last-success gauge starts at now (the configuration loaded at start). */
    public ReloadMeters(MeterRegistry registry, Clock clock) {
        requireNonNull(registry, "registry");
        this.clock = requireNonNull(clock, "clock");
        this.reloads = new ResultCounters(registry, CONFIG_RELOADS,
                "Configuration reloads (SIGHUP, POST /admin/reload) by result", Tags.empty());
        this.lastSuccessMillis = new AtomicLong(clock.millis());
        Gauge.builder(CONFIG_LAST_RELOAD_SUCCESS, lastSuccessMillis, m -> m.get() / 1000.0)
                .description("Unix time in seconds of the last configuration applied (start or reload)")
                .register(registry);
    }

    /** Counts a reload that applied a new configuration and sets the last-success time to now. */
    public void succeeded() {
        reloads.count(true);
        lastSuccessMillis.set(clock.millis());
    }

    /** Counts a reload that was refused (the running configuration stays). */
    public void failed() {
        reloads.count(false);
    }
}
