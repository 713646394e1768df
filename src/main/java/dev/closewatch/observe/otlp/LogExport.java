package dev.closewatch.observe.otlp;

import static java.util.Objects.requireNonNull;

import dev.closewatch.config.OtlpConfig;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.SessionFacts;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Exports every session end as an OTLP log record ({@code otlp.logs}) with the OpenTelemetry SDK:
 * {@link #accept} (on the session's event loop) only builds the record and hands it to the SDK's
 * {@link BatchLogRecordProcessor}, whose own thread sends batches over OTLP/HTTP (the JDK's
 * HttpClient). The queue is bounded by {@code queue_size}; an event that finds it full is dropped
 * and counted in {@code closewatch_otlp_log_records_dropped_total}, and a failed export is counted
 * in {@code closewatch_otlp_export_failures_total{signal="logs"}} and reported by a
 * {@link ExportFailureLog}.
 */
final class LogExport implements BiConsumer<SessionFacts, CloseEvent>, AutoCloseable {

    private final SdkLoggerProvider provider;
    private final Logger logger;
    private final CloseLogger levels;
    private final OtlpMeters meters;
    private final int capacity;
    private final java.time.Duration closeTimeout;
    /**
     * Records emitted and not yet handed to the exporter: in the SDK's queue or in the batch it is
     * filling. Kept at most {@link #capacity} (the SDK queue's size), so the SDK never drops a record
     * unseen: every drop happens here, where it is counted.
     */
    private final AtomicInteger pending = new AtomicInteger();

    LogExport(OtlpConfig config, Resource resource, String scopeVersion, CloseLogger levels, OtlpMeters meters) {
        this.levels = requireNonNull(levels, "levels");
        this.meters = requireNonNull(meters, "meters");
        OtlpConfig.Logs logs = config.logs();
        this.capacity = logs.queueSize();
        this.closeTimeout = config.timeout();
        OtlpHttpLogRecordExporterBuilder exporter = OtlpHttpLogRecordExporter.builder()
                .setEndpoint(logs.endpoint())
                .setTimeout(config.timeout())
                .setConnectTimeout(config.timeout());
        config.headers().forEach(exporter::addHeader);
        ExportFailureLog failures = new ExportFailureLog(Signal.LOGS, logs.endpoint(), meters.logsFailures, System::nanoTime);
        BatchLogRecordProcessor processor = BatchLogRecordProcessor.builder(new Counting(exporter.build(), failures))
                .setMaxQueueSize(logs.queueSize())
                .setMaxExportBatchSize(logs.batchSize())
                .setScheduleDelay(logs.exportInterval())
                // the exporter retries within its own timeouts; give it room for a few attempts
                .setExporterTimeout(config.timeout().multipliedBy(3))
                .build();
        this.provider = SdkLoggerProvider.builder().setResource(resource).addLogRecordProcessor(processor).build();
        this.logger = provider.loggerBuilder(CloseLogger.LOGGER).setInstrumentationVersion(scopeVersion).build();
    }

    /** Queues {@code event} for export, or drops and counts it if {@code queue_size} records wait already. */
    @Override
    public void accept(SessionFacts facts, CloseEvent event) {
        if (pending.incrementAndGet() > capacity) {
            pending.decrementAndGet();
            meters.logRecordsDropped.increment();
            return;
        }
        CloseRecords.emit(logger, facts, event, levels.level(event.classification().severity()));
    }

    /**
     * Sends what is queued, then stops the export thread; waits at most {@code otlp.timeout}, so a
     * collector that is down delays the exit by no more than that.
     */
    @Override
    public void close() {
        provider.shutdown().join(closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Releases {@link #pending} as batches leave the SDK's queue, and counts what the collector says. */
    private final class Counting implements LogRecordExporter {

        private final LogRecordExporter delegate;
        private final ExportFailureLog failures;

        Counting(LogRecordExporter delegate, ExportFailureLog failures) {
            this.delegate = delegate;
            this.failures = failures;
        }

        @Override
        public CompletableResultCode export(Collection<LogRecordData> batch) {
            int n = batch.size();
            pending.addAndGet(-n);
            CompletableResultCode result;
            try {
                result = delegate.export(batch);
            } catch (RuntimeException e) {
                failures.failed(e);
                return CompletableResultCode.ofExceptionalFailure(e);
            }
            result.whenComplete(() -> {
                if (result.isSuccess()) {
                    meters.logRecordsExported.increment(n);
                    failures.succeeded();
                } else {
                    failures.failed(result.getFailureThrowable());
                }
            });
            return result;
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }

        @Override
        public String toString() {
            return "Counting{" + delegate + "}";
        }
    }
}
