package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.OtlpConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A reload does not restart the OTLP export: a changed otlp section is reported as not applied. */
class OtlpReloadTest {

    @Test
    void shouldReportAChangedOtlpSectionAsNeedingARestartWithoutItsHeaders() {
        // Given a running configuration without export, and a file that turns the log export on
        // with a secret header
        CloseWatchConfig running = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9000");
        CloseWatchConfig next = running.withOtlp(new OtlpConfig(Map.of("Authorization", "Bearer s3cret"), null, null, null, null)
                .withLogs("http://127.0.0.1:4318/v1/logs", Duration.ofSeconds(1)));

        // Then the reload names otlp among the keys that need a restart, and shows no header value
        assertEquals(List.of("otlp: changed (in use: the otlp settings read at start)"),
                ConfigReloader.needsRestart(running, next));
        // and an unchanged section is not mentioned
        assertEquals(List.of(), ConfigReloader.needsRestart(next, next));
    }
}
