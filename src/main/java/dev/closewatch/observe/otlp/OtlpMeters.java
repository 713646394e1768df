package dev.closewatch.observe.otlp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The OTLP export's own meters, built once and held:
 * <ul>
 *   <li>{@code closewatch_otlp_log_records_dropped_total}: close events not exported because the
 *       queue ({@code otlp.logs.queue_size}) was full</li>
 *   <li>{@code closewatch_otlp_log_records_exported_total}: close events the collector accepted</li>
 *   <li>{@code closewatch_otlp_export_failures_total{signal}}: export requests that failed, after
 *       the exporter's retries ({@code signal}: {@code metrics}, {@code logs})</li>
 * </ul>
 */
final class OtlpMeters {

    static final String LOG_RECORDS_DROPPED = "closewatch.otlp.log.records.dropped";
    static final String LOG_RECORDS_EXPORTED = "closewatch.otlp.log.records.exported";
    static final String EXPORT_FAILURES = "closewatch.otlp.export.failures";
    static final String TAG_SIGNAL = "signal";

    final Counter logRecordsDropped;
    final Counter logRecordsExported;
    final Counter metricsFailures;
    final Counter logsFailures;

    OtlpMeters(MeterRegistry registry) {
        logRecordsDropped = Counter.builder(LOG_RECORDS_DROPPED)
                .description("Close events not exported over OTLP because the export queue was full")
                .register(registry);
        logRecordsExported = Counter.builder(LOG_RECORDS_EXPORTED)
                .description("Close events exported over OTLP and accepted by the collector")
                .register(registry);
        metricsFailures = failures(registry, Signal.METRICS);
        logsFailures = failures(registry, Signal.LOGS);
    }

    Counter failures(Signal signal) {
        return signal == Signal.METRICS ? metricsFailures : logsFailures;
    }

    private static Counter failures(MeterRegistry registry, Signal signal) {
        return Counter.builder(EXPORT_FAILURES)
                .description("OTLP export requests that failed (collector down, refused or too slow), after retries")
                .tag(TAG_SIGNAL, signal.label())
                .register(registry);
    }
}
