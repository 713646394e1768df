package dev.closewatch.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * The two series of a reload counter, {@code result="success"} and {@code result="failure"}
 * ({@link ReloadMeters#TAG_RESULT}), registered together and held, so that counting one is an
 * increment with no registry look-up. Shared by {@link ReloadMeters} (configuration reloads) and
 * {@link TlsMeters} (TLS file reloads, one pair per role).
 */
final class ResultCounters {

    private final Counter successes;
    private final Counter failures;

    /**
     * @param name        the counter's name (Micrometer, dotted, no {@code _total})
     * @param description its help text
     * @param tags        tags of both series besides {@code result}
     */
    ResultCounters(MeterRegistry registry, String name, String description, Tags tags) {
        successes = Counter.builder(name).description(description).tags(tags)
                .tag(ReloadMeters.TAG_RESULT, ReloadMeters.SUCCESS).register(registry);
        failures = Counter.builder(name).description(description).tags(tags)
                .tag(ReloadMeters.TAG_RESULT, ReloadMeters.FAILURE).register(registry);
    }

    /** Counts one reload: {@code ok} for one that put the new configuration or file in use. */
    void count(boolean ok) {
        (ok ? successes : failures).increment();
    }
}
