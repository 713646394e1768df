package dev.closewatch.observe.otlp;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Counts the failed exports of one signal and writes at most one WARN line per
 * {@link #INTERVAL_NANOS} about them (a collector that is down fails every push, and the proxy
 * must keep serving without filling its log), then one INFO line when an export succeeds again.
 * Thread-safe: exports complete on the exporters' threads.
 */
final class ExportFailureLog {

    /** At most one WARN line per signal per minute. */
    static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private static final Logger LOG = LoggerFactory.getLogger(ExportFailureLog.class);

    private final Signal signal;
    private final String endpoint;
    private final Counter failures;
    private final LongSupplier nanoClock;
    /** Guarded by {@code this}. */
    private boolean failing;
    private long lastLine;
    private long unreported;

    ExportFailureLog(Signal signal, String endpoint, Counter failures, LongSupplier nanoClock) {
        this.signal = requireNonNull(signal, "signal");
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.failures = requireNonNull(failures, "failures");
        this.nanoClock = requireNonNull(nanoClock, "nanoClock");
    }

    /** An export failed with {@code error} (null if the exporter gave no reason). */
    void failed(Throwable error) {
        failures.increment();
        long now = nanoClock.getAsLong();
        long suppressed;
        synchronized (this) {
            unreported++;
            if (failing && now - lastLine < INTERVAL_NANOS) {
                return;
            }
            failing = true;
            lastLine = now;
            suppressed = unreported;
            unreported = 0;
        }
        line(LOG.atWarn(), "otlp.export.failed")
                .addKeyValue("failures", suppressed)
                .log("OTLP export of {} to {} failed: {} ({} failed export(s) since the last such line; the proxy keeps"
                                + " serving; closewatch_otlp_export_failures_total counts them, next line in 1 min at the earliest)",
                        signal.label(), endpoint, describe(error), suppressed);
    }

    /** An export succeeded. */
    void succeeded() {
        synchronized (this) {
            if (!failing) {
                return;
            }
            failing = false;
            unreported = 0;
        }
        line(LOG.atInfo(), "otlp.export.recovered")
                .log("OTLP export of {} to {} works again", signal.label(), endpoint);
    }

    /** The key-value pairs every line of this log carries: {@code event}, {@code signal}, {@code endpoint}. */
    private LoggingEventBuilder line(LoggingEventBuilder builder, String event) {
        return builder.addKeyValue("event", event)
                .addKeyValue("signal", signal.label())
                .addKeyValue("endpoint", endpoint);
    }

    /**
     * The exception and its causes, {@code ; caused by }-separated, leaving out wrappers that only
     * repeat their cause: {@code java.net.ConnectException: Connection refused}.
     */
    static String describe(Throwable error) {
        if (error == null) {
            return "no reason given";
        }
        StringBuilder text = new StringBuilder();
        Throwable t = error;
        for (int depth = 0; t != null && depth < 10; depth++) {
            Throwable cause = t.getCause() == t ? null : t.getCause();
            String message = t.getMessage();
            boolean repeatsCause = cause != null && (message == null ? cause.getClass() == t.getClass()
                    : message.equals(cause.toString()));
            if (!repeatsCause) {
                text.append(text.length() == 0 ? "" : "; caused by ").append(t.getClass().getName())
                        .append(message == null ? "" : ": " + message);
            }
            t = cause;
        }
        return text.toString();
    }
}
