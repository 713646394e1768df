package dev.closewatch.observe.otlp;

import static java.util.Objects.requireNonNull;

import dev.closewatch.config.OtlpConfig;
import dev.closewatch.observe.BuildInfo;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.Registries;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.resources.Resource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;

/**
 * OpenTelemetry export over OTLP/HTTP ({@code otlp:}, {@code docs/opentelemetry.md}), off unless
 * configured:
 * <ul>
 *   <li>{@code otlp.metrics}: Micrometer's OTLP registry beside the Prometheus one, in a composite
 *       that every closewatch meter is registered through ({@link #registry()}), plus the JVM and
 *       process binders of its own;</li>
 *   <li>{@code otlp.logs}: each session end as an OTLP log record ({@link #attach}).</li>
 * </ul>
 * A collector that is down or refuses never stops the proxy: exports are counted
 * ({@code closewatch_otlp_export_failures_total{signal}}), and one WARN line per signal and minute
 * says so. Changes under {@code otlp:} take effect at the next start, not on reload.
 */
public final class OtlpExport implements AutoCloseable {

    /**
     * The OTel exporter logs each failed export through java.util.logging (to stderr, since
     * closewatch installs no bridge); {@link ExportFailureLog} reports them instead. Held here
     * because java.util.logging keeps loggers only weakly, which would lose the level.
     */
    private static final java.util.logging.Logger HTTP_EXPORTER_LOG =
            java.util.logging.Logger.getLogger("io.opentelemetry.exporter.otlp.internal.HttpExporter");

    private final OtlpConfig config;
    private final MeterRegistry registry;
    private final OtlpMeterRegistry metrics;
    private final JvmGcMetrics gcMetrics;
    private final Map<String, String> resource;
    private final OtlpMeters meters;
    private LogExport logs;

    private OtlpExport(OtlpConfig config, MeterRegistry registry, OtlpMeterRegistry metrics, JvmGcMetrics gcMetrics,
                       Map<String, String> resource, OtlpMeters meters) {
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
        this.gcMetrics = gcMetrics;
        this.resource = resource;
        this.meters = meters;
    }

    /**
     * Starts the metrics export if {@code otlp.metrics.enabled}.
     *
     * @param config     a validated {@code otlp:} section
     * @param prometheus the registry {@code /metrics} serves; every meter registered through
     *                   {@link #registry()} lands in it too
     */
    public static OtlpExport start(OtlpConfig config, MeterRegistry prometheus) {
        requireNonNull(config, "config");
        requireNonNull(prometheus, "prometheus");
        if (!config.enabled()) {
            return new OtlpExport(config, prometheus, null, null, Map.of(), null);
        }
        Map<String, String> resource = resource(config);
        HTTP_EXPORTER_LOG.setLevel(Level.OFF);
        if (!config.metrics().enabled()) {
            return new OtlpExport(config, prometheus, null, null, resource, new OtlpMeters(prometheus));
        }
        // Both registries join the composite before any meter is registered through it: a registry
        // added later would miss what was recorded before (Micrometer warns about it).
        CompositeMeterRegistry composite = new CompositeMeterRegistry();
        composite.add(prometheus);
        AtomicReference<ExportFailureLog> failures = new AtomicReference<>();
        OtlpMeterRegistry otlp = MetricsExport.start(config, resource, failures::get);
        composite.add(otlp);
        OtlpMeters meters = new OtlpMeters(composite);
        failures.set(new ExportFailureLog(Signal.METRICS, config.metrics().endpoint(), meters.metricsFailures, System::nanoTime));
        JvmGcMetrics gc = Registries.bindProcessMeters(otlp);
        return new OtlpExport(config, composite, otlp, gc, resource, meters);
    }

    /**
     * The registry to register closewatch's meters in: the Prometheus registry itself when the
     * metrics are not exported, else a composite of it and the OTLP registry.
     */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Exports {@code observability}'s session ends from now on if {@code otlp.logs.enabled}, with
     * the severity of its close line ({@link Observability#closeLogger()}). Call once.
     */
    public synchronized void attach(Observability observability) {
        if (!config.logs().enabled() || logs != null) {
            return;
        }
        AttributesBuilder attributes = Attributes.builder();
        resource.forEach(attributes::put);
        logs = new LogExport(config, Resource.getDefault().merge(Resource.create(attributes.build())),
                resource.get("service.version"), observability.closeLogger(), meters);
        observability.addSessionEndConsumer(logs);
    }

    /**
     * {@code service.name} {@code closewatch}, {@code service.version} the build's,
     * {@code service.instance.id} a random UUID (as the semantic conventions suggest for a process
     * without a stable identity), then {@code otlp.resource_attributes} over them.
     */
    static Map<String, String> resource(OtlpConfig config) {
        Map<String, String> resource = new LinkedHashMap<>();
        resource.put("service.name", "closewatch");
        resource.put("service.version", BuildInfo.current().version());
        resource.put("service.instance.id", UUID.randomUUID().toString());
        resource.putAll(config.resourceAttributes());
        return Map.copyOf(resource);
    }

    /**
     * Sends what is queued and stops: the last close events, then a last push of the meters.
     * Call after the proxy has stopped, so its last session ends are in.
     */
    @Override
    public synchronized void close() {
        if (logs != null) {
            logs.close();
        }
        if (metrics != null) {
            metrics.close();
            gcMetrics.close();
        }
    }
}
