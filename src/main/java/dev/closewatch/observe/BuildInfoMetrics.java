package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Publishes which build runs: {@code closewatch_build_info{version,revision,java} 1}, a gauge that
 * is always 1 so that dashboards can join the labels onto other series by instance (and see a
 * rollout's versions side by side).
 */
public final class BuildInfoMetrics implements MeterBinder {

    private final BuildInfo info;

    /** Binds the running build, {@link BuildInfo#current()}. */
    public BuildInfoMetrics() {
        this(BuildInfo.current());
    }

    public BuildInfoMetrics(BuildInfo info) {
        this.info = requireNonNull(info, "info");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder(MeterNames.BUILD_INFO, () -> 1)
                .description("The running build: project version, git revision and Java runtime version; always 1")
                .tags(MeterNames.TAG_VERSION, info.version(), MeterNames.TAG_REVISION, info.revision(),
                        MeterNames.TAG_JAVA, info.java())
                .register(registry);
    }
}
