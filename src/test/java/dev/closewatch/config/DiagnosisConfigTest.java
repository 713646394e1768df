package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code diagnosis:} keys: defaults, YAML binding, the shipped file, validation messages. */
class DiagnosisConfigTest {

    @Test
    void shouldDefaultToTenMinutesTenEndsHalfAndOneSecondOrTwoPercent() {
        // Given no diagnosis settings
        DiagnosisConfig d = CloseWatchConfig.defaults().diagnosis();
        // Then
        assertEquals(new DiagnosisConfig(Duration.ofMinutes(10), 10, 0.5, Duration.ofSeconds(1), 0.02), d);
    }

    @Test
    void shouldReadTheKeysFromYamlAndShipTheDefaults(@TempDir Path dir) throws Exception {
        // Given a file with every diagnosis key
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "routes: [{name: r, upstream: 'ws://127.0.0.1:9'}]\n"
                + "diagnosis: {window: 2m, min_count: 5, min_share: 0.25, tolerance: 500ms, tolerance_ratio: 0.05}\n");
        // When it and the shipped file are loaded
        DiagnosisConfig read = new ConfigLoader().load(file).diagnosis();
        DiagnosisConfig shipped = new ConfigLoader().load(Path.of("config/closewatch.yaml")).diagnosis();
        // Then
        assertEquals(new DiagnosisConfig(Duration.ofMinutes(2), 5, 0.25, Duration.ofMillis(500), 0.05), read);
        assertEquals(CloseWatchConfig.defaults().diagnosis(), shipped);
    }

    @Test
    void shouldNameEachBadKeyAndWhatWasExpected() {
        // Given every key out of range
        CloseWatchConfig bad = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9")
                .withDiagnosis(new DiagnosisConfig(Duration.ofMillis(500), 1, 0.0, Duration.ofSeconds(-1), 0.5));
        // When validated
        List<String> errors = bad.validate();
        // Then one message per key
        assertEquals(List.of(
                "diagnosis.window: 500ms (expected: 1s-24h, e.g. 10m)",
                "diagnosis.min_count: 1 (expected: 2-100000)",
                "diagnosis.min_share: 0.0 (expected: > 0 and <= 1, e.g. 0.5)",
                "diagnosis.tolerance: -1s (expected: 0-1m, e.g. 1s)",
                "diagnosis.tolerance_ratio: 0.5 (expected: >= 0 and < 0.5, e.g. 0.02)"), errors);
    }

    @Test
    void shouldReadTheOperatorsOwnIntermediaries(@TempDir Path dir) throws Exception {
        // Given a file that lists one intermediary of the operator's own, source and note left out
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "routes: [{name: r, upstream: 'ws://127.0.0.1:9'}]\n"
                + "diagnosis:\n  intermediaries:\n    - product: edge-lb (HAProxy)\n      setting: timeout tunnel\n"
                + "      timeout: 1m15s\n      kind: idle\n");
        // When it is loaded
        DiagnosisConfig read = new ConfigLoader().load(file).diagnosis();
        // Then
        assertEquals(List.of(new IntermediaryConfig("edge-lb (HAProxy)", "timeout tunnel", Duration.ofSeconds(75), "idle",
                null, null)), read.intermediaries());
    }

    @Test
    void shouldNameEachBadFieldOfAnIntermediary() {
        // Given an entry without product or setting, a zero timeout and an unknown kind
        CloseWatchConfig bad = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9")
                .withDiagnosis(new DiagnosisConfig(null, null, null, null, null,
                        List.of(new IntermediaryConfig(" ", null, Duration.ZERO, "forever", null, null))));
        // When validated
        List<String> errors = bad.validate();
        // Then one message per field
        assertEquals(List.of(
                "diagnosis.intermediaries[0].product: (expected: what sits in the path, e.g. edge-lb (HAProxy))",
                "diagnosis.intermediaries[0].setting: (expected: the setting to raise, e.g. timeout tunnel)",
                "diagnosis.intermediaries[0].timeout: 0s (expected: 1ms-7d, e.g. 75s)",
                "diagnosis.intermediaries[0].kind: forever (expected: idle or lifetime)"), errors);
    }
}
