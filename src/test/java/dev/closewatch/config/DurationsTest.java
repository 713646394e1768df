package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Durations read and printed the way the configuration writes them. */
class DurationsTest {

    @Test
    void shouldParseSingleAndCompoundForms() {
        // Given / When / Then
        assertEquals(Duration.ofMillis(250), Durations.parse("250ms"));
        assertEquals(Duration.ofSeconds(10), Durations.parse("10s"));
        assertEquals(Duration.ofSeconds(90), Durations.parse("1m30s"));
        assertEquals(Duration.ofMinutes(65), Durations.parse("1h5m"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1s500ms"));
        assertEquals(Duration.ofHours(1).plusMinutes(2).plusSeconds(3).plusMillis(4), Durations.parse("1h2m3s4ms"));
        assertEquals(Duration.ZERO, Durations.parse("0s"));
    }

    @Test
    void shouldRefuseWhatIsNotADurationSayingWhatWasExpected() {
        // Given a unit spelt out, units out of order, a unit twice, a bare number and nothing
        for (String bad : new String[] {"10 seconds", "30s1m", "1s1s", "5", "", "PT10S", "-1s"}) {
            // When
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad));
            // Then
            assertEquals("'" + bad + "' (expected: a duration such as 250ms, 5s, 1m30s or 1h)", e.getMessage());
        }
    }

    @Test
    void shouldPrintDurationsAsWrittenNotAsIso8601() {
        // Given / When / Then
        assertEquals("10s", Durations.format(Duration.ofSeconds(10)));
        assertEquals("1m30s", Durations.format(Duration.ofSeconds(90)));
        assertEquals("250ms", Durations.format(Duration.ofMillis(250)));
        assertEquals("1h", Durations.format(Duration.ofHours(1)));
        assertEquals("1s500ms", Durations.format(Duration.ofMillis(1500)));
        assertEquals("0s", Durations.format(Duration.ZERO));
        assertEquals("-5ms", Durations.format(Duration.ofMillis(-5)));
        assertEquals("26h", Durations.format(Duration.ofHours(26)));
    }

    @Test
    void shouldReadBackWhatItPrints() {
        for (long ms : new long[] {1, 999, 1000, 61_001, 3_600_000, 3_723_004}) {
            Duration d = Duration.ofMillis(ms);
            assertEquals(d, Durations.parse(Durations.format(d)), Durations.format(d));
        }
    }
}
