package dev.closewatch.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * OpenTelemetry export over OTLP/HTTP with protobuf bodies ({@code otlp:}, see
 * {@code docs/opentelemetry.md}): the meters to an OTLP metrics endpoint, and each session end as
 * an OTLP log record. Both are off by default.
 *
 * @param headers            HTTP header fields sent with every export request, e.g.
 *                           {@code Authorization: Bearer ...} (default none)
 * @param resourceAttributes resource attributes added to (or replacing) {@code service.name}
 *                           ({@code closewatch}), {@code service.version} (the build's) and
 *                           {@code service.instance.id} (a random UUID per process)
 * @param timeout            how long one export request may take, connect included (default 10s)
 * @param metrics            the meters ({@code otlp.metrics})
 * @param logs               the close events ({@code otlp.logs})
 */
public record OtlpConfig(Map<String, String> headers, Map<String, String> resourceAttributes, Duration timeout,
                         Metrics metrics, Logs logs) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public OtlpConfig {
        headers = headers == null ? Map.of() : copy(headers);
        resourceAttributes = resourceAttributes == null ? Map.of() : copy(resourceAttributes);
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        metrics = metrics == null ? new Metrics(null, null, null, null) : metrics;
        logs = logs == null ? new Logs(null, null, null, null, null) : logs;
    }

    /** Nothing exported. */
    public static OtlpConfig disabled() {
        return new OtlpConfig(null, null, null, null, null);
    }

    /** Whether anything is exported. */
    public boolean enabled() {
        return metrics.enabled() || logs.enabled();
    }

    /**
     * The meters, pushed every {@code step} by Micrometer's OTLP registry.
     *
     * @param enabled                 default false
     * @param endpoint                full URL of the OTLP/HTTP metrics endpoint (default
     *                                {@value #DEFAULT_ENDPOINT})
     * @param step                    how often the meters are pushed, and a delta's interval
     *                                (default 60s, at least 1s)
     * @param aggregationTemporality  {@code cumulative} (counters count since start, as in
     *                                Prometheus; the default) or {@code delta} (each push counts
     *                                its step)
     */
    public record Metrics(Boolean enabled, String endpoint, Duration step, String aggregationTemporality) {

        public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:4318/v1/metrics";
        public static final Duration DEFAULT_STEP = Duration.ofSeconds(60);

        public Metrics {
            enabled = enabled != null && enabled;
            endpoint = endpoint == null ? DEFAULT_ENDPOINT : endpoint;
            step = step == null ? DEFAULT_STEP : step;
            aggregationTemporality = aggregationTemporality == null ? "cumulative" : aggregationTemporality;
        }
    }

    /**
     * The close events: one OTLP log record per session end, queued (bounded) and sent in batches
     * from a background thread.
     *
     * @param enabled        default false
     * @param endpoint       full URL of the OTLP/HTTP logs endpoint (default
     *                       {@value #DEFAULT_ENDPOINT})
     * @param queueSize      records waiting to be sent at most; a session end that finds the queue
     *                       full is dropped and counted (default 2048)
     * @param batchSize      records per export request at most (default 512, at most queue_size)
     * @param exportInterval how long a record may wait for its batch to fill (default 1s)
     */
    public record Logs(Boolean enabled, String endpoint, Integer queueSize, Integer batchSize, Duration exportInterval) {

        public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:4318/v1/logs";
        public static final int DEFAULT_QUEUE_SIZE = 2048;
        public static final int DEFAULT_BATCH_SIZE = 512;
        public static final Duration DEFAULT_EXPORT_INTERVAL = Duration.ofSeconds(1);

        public Logs {
            enabled = enabled != null && enabled;
            endpoint = endpoint == null ? DEFAULT_ENDPOINT : endpoint;
            queueSize = queueSize == null ? DEFAULT_QUEUE_SIZE : queueSize;
            batchSize = batchSize == null ? DEFAULT_BATCH_SIZE : batchSize;
            exportInterval = exportInterval == null ? DEFAULT_EXPORT_INTERVAL : exportInterval;
        }
    }

    /** A copy exporting the meters to {@code endpoint} every {@code step}. */
    public OtlpConfig withMetrics(String endpoint, Duration step) {
        return new OtlpConfig(headers, resourceAttributes, timeout,
                new Metrics(true, endpoint, step, metrics.aggregationTemporality()), logs);
    }

    /** A copy exporting the close events to {@code endpoint}, each batch after at most {@code exportInterval}. */
    public OtlpConfig withLogs(String endpoint, Duration exportInterval) {
        return new OtlpConfig(headers, resourceAttributes, timeout, metrics,
                new Logs(true, endpoint, logs.queueSize(), logs.batchSize(), exportInterval));
    }

    void validate(List<String> errors) {
        endpoint(errors, "otlp.metrics.endpoint", metrics.endpoint(), Metrics.DEFAULT_ENDPOINT);
        endpoint(errors, "otlp.logs.endpoint", logs.endpoint(), Logs.DEFAULT_ENDPOINT);
        if (timeout.compareTo(Duration.ofMillis(100)) < 0 || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
            errors.add("otlp.timeout: " + Durations.format(timeout) + " (expected: 100ms-5m, e.g. 10s)");
        }
        if (metrics.step().compareTo(Duration.ofSeconds(1)) < 0 || metrics.step().compareTo(Duration.ofDays(1)) > 0) {
            errors.add("otlp.metrics.step: " + Durations.format(metrics.step()) + " (expected: 1s-24h, e.g. 60s)");
        }
        String temporality = metrics.aggregationTemporality().toLowerCase(Locale.ROOT);
        if (!temporality.equals("cumulative") && !temporality.equals("delta")) {
            errors.add("otlp.metrics.aggregation_temporality: '" + metrics.aggregationTemporality()
                    + "' (expected: cumulative or delta)");
        }
        if (logs.queueSize() < 1 || logs.queueSize() > 1_000_000) {
            errors.add("otlp.logs.queue_size: " + logs.queueSize() + " (expected: 1-1000000)");
        }
        if (logs.batchSize() < 1 || logs.batchSize() > Math.max(1, logs.queueSize())) {
            errors.add("otlp.logs.batch_size: " + logs.batchSize() + " (expected: 1 to queue_size " + logs.queueSize() + ")");
        }
        if (logs.exportInterval().compareTo(Duration.ofMillis(10)) < 0
                || logs.exportInterval().compareTo(Duration.ofMinutes(10)) > 0) {
            errors.add("otlp.logs.export_interval: " + Durations.format(logs.exportInterval()) + " (expected: 10ms-10m, e.g. 1s)");
        }
        headers.forEach((name, value) -> {
            // RFC 9110 §5.1 (a field name is a token) and §5.5 (a value is VCHAR, obs-text, SP and
            // HTAB: what the exporters' HTTP clients accept; anything else would fail every export)
            if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                errors.add("otlp.headers: '" + name + "' (expected: a header field name, a token of RFC 9110 §5.6.2)");
            } else if (value == null || value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7F || c > 0xFF)) {
                // the key path stays lowercase so the loader finds the section's line; the value may be a secret
                errors.add("otlp.headers: the value of '" + name + "' (expected: a field value of RFC 9110 §5.5:"
                        + " visible characters, spaces and tabs, no control characters, nothing above U+00FF)");
            }
        });
        resourceAttributes.forEach((key, value) -> {
            if (key.isBlank() || value == null) {
                errors.add("otlp.resource_attributes: '" + key + "' (expected: a non-empty key with a string value)");
            }
        });
    }

    private static void endpoint(List<String> errors, String key, String url, String example) {
        String expected = " (expected: an http:// or https:// URL with a host, e.g. " + example + ")";
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null
                    || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
                errors.add(key + ": '" + url + "'" + expected);
            }
        } catch (URISyntaxException e) {
            errors.add(key + ": '" + url + "'" + expected);
        }
    }

    private static Map<String, String> copy(Map<String, String> map) {
        // A YAML null value stays visible to validate(); Map.copyOf would throw on it.
        return java.util.Collections.unmodifiableMap(new TreeMap<>(map));
    }
}
