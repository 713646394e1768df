package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DrainConfigTest {

    @Test
    void shouldDefaultToTheAgreedArithmetic() {
        // Given no drain settings
        DrainConfig drain = CloseWatchConfig.defaults().drain();
        // Then 5s unready + 10s spread + 10s timeout = 25s, which a 30s grace period covers with 5s to spare
        assertEquals(Duration.ofSeconds(5), drain.unreadyDelay());
        assertEquals(Duration.ofSeconds(10), drain.spread());
        assertEquals(Duration.ofSeconds(10), drain.timeout());
        assertEquals(1012, drain.closeCode());
        assertEquals(Duration.ZERO, drain.linger());
        assertEquals(Duration.ofSeconds(25), drain.longest());
    }

    @Test
    void shouldReadUnreadyDelayAndSpreadFromYaml(@TempDir Path dir) throws Exception {
        // Given a file with the drain keys
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "routes: [{name: r, upstream: 'ws://127.0.0.1:9'}]\n"
                + "drain: {unready_delay: 2s, spread: 4s, timeout: 5s, linger: 1500ms}\n");
        // When it is loaded
        DrainConfig drain = new ConfigLoader().load(file).drain();
        // Then
        assertEquals(new DrainConfig(Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(5), 1012,
                "service restart", Duration.ofMillis(1500)), drain);
    }

    @Test
    void shouldShipTheDefaultsInConfigCloseWatchYaml() throws Exception {
        // Given the shipped configuration file
        DrainConfig shipped = new ConfigLoader().load(Path.of("config/closewatch.yaml")).drain();
        // Then its drain section states the defaults, so the documented arithmetic holds for it
        assertEquals(CloseWatchConfig.defaults().drain(), shipped);
    }

    @Test
    void shouldAcceptZeroDelayAndSpreadButNotNegativeOnes() {
        // Given zero and negative durations
        CloseWatchConfig zero = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9")
                .withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO, null, null, null, null));
        CloseWatchConfig negative = zero.withDrain(new DrainConfig(Duration.ofSeconds(-1), Duration.ofMillis(-5),
                Duration.ZERO, null, null, null));
        // Then zero is valid (at once), negatives and a zero timeout are refused with what was expected
        assertEquals(List.of(), zero.validate());
        List<String> errors = negative.validate();
        assertTrue(errors.contains("drain.timeout: 0s (expected: > 0, e.g. 5s)"), errors.toString());
        assertTrue(errors.contains("drain.unready_delay: -1s (expected: >= 0; 0 = close the listener at once)"),
                errors.toString());
        assertTrue(errors.contains("drain.spread: -5ms (expected: >= 0; 0 = every Close at once)"),
                errors.toString());
        assertEquals(3, errors.size(), errors.toString());
    }
}
