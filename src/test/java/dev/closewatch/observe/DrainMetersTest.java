package dev.closewatch.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class DrainMetersTest {

    private static double phase(SimpleMeterRegistry registry, DrainMeters.Phase phase) {
        return registry.get(DrainMeters.DRAIN_PHASE).tag(DrainMeters.TAG_PHASE, phase.label()).gauge().value();
    }

    @Test
    void shouldExposeExactlyOneCurrentPhase() {
        // Given drain meters
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DrainMeters meters = new DrainMeters(registry);
        for (DrainMeters.Phase now : DrainMeters.Phase.values()) {
            // When the drain enters a phase
            meters.phase(now);
            // Then that phase's series is 1 and every other one 0
            for (DrainMeters.Phase p : DrainMeters.Phase.values()) {
                assertEquals(p == now ? 1.0 : 0.0, phase(registry, p), now + " / " + p);
            }
        }
        assertEquals(5, registry.find(DrainMeters.DRAIN_PHASE).gauges().size());
    }

    @Test
    void shouldCountDrainedAndCutSessionsApart() {
        // Given drain meters
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DrainMeters meters = new DrainMeters(registry);
        // When two sessions end by themselves and one is cut
        meters.sessionEnded(false);
        meters.sessionEnded(true);
        meters.sessionEnded(false);
        // Then
        assertEquals(2, meters.drained());
        assertEquals(1, meters.cut());
        assertEquals(2.0, registry.get(DrainMeters.DRAIN_SESSIONS).tag(DrainMeters.TAG_RESULT, "drained").counter().count());
        assertEquals(1.0, registry.get(DrainMeters.DRAIN_SESSIONS).tag(DrainMeters.TAG_RESULT, "cut").counter().count());
    }
}
