package dev.closewatch.observe;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** Builds the Prometheus registry served at the admin port's {@code /metrics}. */
public final class Registries {

    private Registries() {
    }

    /**
     * A Prometheus registry with the JVM (memory, GC, threads, class loading) and process (CPU,
     * uptime, file descriptors) binders, and {@code closewatch_build_info}. The GC binder is returned too, as it must be
     * closed.
     */
    public static PrometheusMeterRegistry prometheus() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bindProcessMeters(registry);
        return registry;
    }

    /**
     * Binds the JVM (memory, GC, threads, class loading) and process (CPU, uptime, file
     * descriptors) binders and {@code closewatch_build_info} to {@code registry}; also for the OTLP
     * registry, which gets its own. Returns the GC binder, which must be closed with the registry.
     */
    public static JvmGcMetrics bindProcessMeters(MeterRegistry registry) {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new BuildInfoMetrics().bindTo(registry);
        return gc;
    }
}
