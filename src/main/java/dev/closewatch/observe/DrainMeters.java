package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;

/**
 * The graceful drain's meters, registered at construction:
 * <ul>
 *   <li>{@code closewatch_drain_phase{phase}} — gauge, 1 for the current {@link Phase}, 0 for the
 *       others (one series per phase, as Prometheus exposes an enumerated state);</li>
 *   <li>{@code closewatch_drain_sessions_total{result}} — counter of the sessions the drain sent a
 *       Close: {@code result="drained"} when the session ended within {@code drain.timeout} of its
 *       Close, {@code result="cut"} when closewatch had to close its connections at
 *       {@code drain.timeout} (or when the process stopped) instead.</li>
 * </ul>
 * Thread-safe: phases change on a timer thread, sessions end on their event loops.
 */
public final class DrainMeters {

    /** {@code closewatch.drain.phase}: {@code closewatch_drain_phase{phase}}. */
    public static final String DRAIN_PHASE = "closewatch.drain.phase";
    /** {@code closewatch.drain.sessions}: {@code closewatch_drain_sessions_total{result}}. */
    public static final String DRAIN_SESSIONS = "closewatch.drain.sessions";
    public static final String TAG_PHASE = "phase";
    public static final String TAG_RESULT = "result";

    /** Where a drain stands; the {@code phase} label (lower case). */
    public enum Phase {
        /** No drain: {@code /readyz} 200, the listener accepts. */
        SERVING,
        /** {@code /readyz} 503; the listener still accepts for {@code drain.unready_delay}. */
        UNREADY,
        /** The listener is closed; the sessions' Closes are being sent over {@code drain.spread}. */
        CLOSING,
        /** Every Close is sent; waiting up to {@code drain.timeout} for the close handshakes. */
        AWAITING,
        /** Every drained session ended or was cut; the process stops next. */
        DONE;

        /** The Prometheus label value. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Counter drained;
    private final Counter cut;
    private volatile Phase phase = Phase.SERVING;

    /** Registers the drain meters in {@code registry}. */
    public DrainMeters(MeterRegistry registry) {
        requireNonNull(registry, "registry");
        for (Phase p : Phase.values()) {
            Gauge.builder(DRAIN_PHASE, this, m -> m.phase == p ? 1 : 0).tag(TAG_PHASE, p.label())
                    .description("1 for the graceful drain's current phase, 0 for the others")
                    .strongReference(true).register(registry);
        }
        drained = Counter.builder(DRAIN_SESSIONS).tag(TAG_RESULT, "drained")
                .description("sessions the drain sent a Close, by whether they ended in time or were cut")
                .register(registry);
        cut = Counter.builder(DRAIN_SESSIONS).tag(TAG_RESULT, "cut")
                .description("sessions the drain sent a Close, by whether they ended in time or were cut")
                .register(registry);
    }

    /** Enters {@code next}. */
    public void phase(Phase next) {
        phase = requireNonNull(next, "next");
    }

    /** The current phase. */
    public Phase phase() {
        return phase;
    }

    /**
     * A session the drain sent a Close has ended.
     *
     * @param wasCut true when closewatch closed its connections at {@code drain.timeout} (or at
     *               the process's stop) rather than the session ending by itself
     */
    public void sessionEnded(boolean wasCut) {
        (wasCut ? cut : drained).increment();
    }

    /** Sessions drained so far that ended by themselves. */
    public long drained() {
        return (long) drained.count();
    }

    /** Sessions drained so far whose connections closewatch had to cut. */
    public long cut() {
        return (long) cut.count();
    }
}
