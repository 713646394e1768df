package dev.closewatch.observe.otlp;

import dev.closewatch.config.OtlpConfig;
import io.micrometer.core.ipc.http.HttpUrlConnectionSender;
import io.micrometer.registry.otlp.AggregationTemporality;
import io.micrometer.registry.otlp.OtlpHttpMetricsSender;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import io.micrometer.registry.otlp.OtlpMetricsSender;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Micrometer's OTLP registry ({@code otlp.metrics}) configured from the closewatch configuration
 * alone: the {@code OTEL_*} environment variables Micrometer would read otherwise are not
 * consulted, so what {@code check-config} shows is what runs.
 */
final class MetricsExport {

    private MetricsExport() {
    }

    /**
     * A started registry pushing every {@code step} to the metrics endpoint from a daemon thread
     * ({@code closewatch-otlp-metrics}); times in seconds, as the semantic conventions and the
     * Prometheus side have them. A failed push is counted and reported by {@code failures} (set
     * before the first push, a step from now), not thrown into Micrometer (which would log a stack
     * trace per failure).
     */
    static OtlpMeterRegistry start(OtlpConfig config, Map<String, String> resource, Supplier<ExportFailureLog> failures) {
        OtlpConfig.Metrics metrics = config.metrics();
        io.micrometer.registry.otlp.OtlpConfig micrometer = new io.micrometer.registry.otlp.OtlpConfig() {
            @Override
            public String get(String key) {
                return null;
            }

            @Override
            public String url() {
                return metrics.endpoint();
            }

            @Override
            public Duration step() {
                return metrics.step();
            }

            @Override
            public Map<String, String> headers() {
                return config.headers();
            }

            @Override
            public Map<String, String> resourceAttributes() {
                return resource;
            }

            @Override
            public AggregationTemporality aggregationTemporality() {
                return "delta".equals(metrics.aggregationTemporality().toLowerCase(Locale.ROOT))
                        ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
            }

            @Override
            public TimeUnit baseTimeUnit() {
                return TimeUnit.SECONDS;
            }
        };
        OtlpMetricsSender http = new OtlpHttpMetricsSender(new HttpUrlConnectionSender(config.timeout(), config.timeout()));
        OtlpMetricsSender counting = request -> {
            try {
                http.send(request);
                failures.get().succeeded();
            } catch (Exception e) {
                failures.get().failed(e);
            }
        };
        return OtlpMeterRegistry.builder(micrometer)
                .metricsSender(counting)
                .threadFactory(r -> {
                    Thread t = new Thread(r, "closewatch-otlp-metrics");
                    t.setDaemon(true);
                    return t;
                })
                .build();
    }
}
