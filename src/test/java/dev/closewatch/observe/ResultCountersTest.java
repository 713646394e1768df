package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reload counters {@link ReloadMeters} and {@link TlsMeters} build with {@link ResultCounters}:
 * their names and tags as docs/metrics-and-logs.md lists them, and one increment per reload.
 */
class ResultCountersTest {

    private final MeterRegistry registry = new SimpleMeterRegistry();

    private double count(String name, String... tags) {
        Counter c = registry.find(name).tags(tags).counter();
        return c == null ? Double.NaN : c.count();
    }

    @Test
    void shouldCountConfigReloadsBySuccessAndFailureFromTheStart() {
        // Given the configuration reload meters
        ReloadMeters meters = new ReloadMeters(registry, Clock.systemUTC());
        // (both series exist at 0 before any reload)
        assertEquals(0.0, count("closewatch.config.reloads", "result", "success"));
        assertEquals(0.0, count("closewatch.config.reloads", "result", "failure"));

        // When two reloads succeed and one fails
        meters.succeeded();
        meters.failed();
        meters.succeeded();

        // Then each result has its count, and no other series was made
        assertEquals(2.0, count("closewatch.config.reloads", "result", "success"));
        assertEquals(1.0, count("closewatch.config.reloads", "result", "failure"));
        assertEquals(2, registry.find("closewatch.config.reloads").counters().size());
    }

    @Test
    void shouldCountTlsReloadsByRoleAndResult() {
        // Given the TLS meters, before any reload: no reload series
        TlsMeters meters = new TlsMeters(registry, Clock.systemUTC());
        assertEquals(0, registry.find("closewatch.tls.reloads").counters().size());

        // When the listener's file is re-read twice (one refused) and the upstream CA's once
        meters.reloaded(TlsMeters.ROLE_LISTENER, true);
        meters.reloaded(TlsMeters.ROLE_LISTENER, false);
        meters.reloaded(TlsMeters.ROLE_UPSTREAM_CA, true);

        // Then each role and result has its count, both results of each role reloaded
        assertEquals(1.0, count("closewatch.tls.reloads", "role", "listener", "result", "success"));
        assertEquals(1.0, count("closewatch.tls.reloads", "role", "listener", "result", "failure"));
        assertEquals(1.0, count("closewatch.tls.reloads", "role", "upstream_ca", "result", "success"));
        assertEquals(0.0, count("closewatch.tls.reloads", "role", "upstream_ca", "result", "failure"));
        assertEquals(List.of("listener", "upstream_ca"), registry.find("closewatch.tls.reloads").counters().stream()
                .map(c -> c.getId().getTag("role")).distinct().sorted().toList());
    }
}
