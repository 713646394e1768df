package dev.closewatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.config.AdminConfig;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.TlsConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which changed keys a reload names as needing a restart. */
class ConfigReloaderTest {

    private static final CloseWatchConfig RUNNING = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9000");

    @Test
    void shouldNameNothingWhenOnlyLiveKeysChange() {
        // Given a file that only changes the route's upstream
        CloseWatchConfig next = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9001");
        // Then nothing needs a restart
        assertEquals(List.of(), ConfigReloader.needsRestart(RUNNING, next));
    }

    @Test
    void shouldNameListenTlsAndAdminChangesWithTheValuesInUse() {
        // Given a file that moves the listener, turns TLS on and changes admin keys
        CloseWatchConfig next = RUNNING.withListen("0.0.0.0:8443")
                .withTls(new TlsConfig("/etc/tls/tls.crt", "/etc/tls/tls.key", null, null))
                .withAdminConfig(new AdminConfig("127.0.0.1:8082", "0123456789abcdef-secret", 50, 4));
        // When compared with the running configuration
        List<String> keys = ConfigReloader.needsRestart(RUNNING, next);
        // Then each is named, the token without its value
        assertEquals(List.of(
                "listen: '0.0.0.0:8443' (in use: '0.0.0.0:8080')",
                "tls: added (in use: ws://, no TLS)",
                "admin.listen: '127.0.0.1:8082' (in use: '127.0.0.1:8081')",
                "admin.token: <hidden> (in use: the previous token)",
                "admin.recent_closes: '50' (in use: '1000')",
                "admin.max_streams: '4' (in use: '16')"), keys);
    }

    @Test
    void shouldNameChangedDurationsAsWritten() {
        // Given a file that changes the admin server's timeouts
        CloseWatchConfig next = RUNNING.withAdminConfig(new AdminConfig(null, null, null, null, null,
                java.time.Duration.ofMillis(1500), java.time.Duration.ofSeconds(90)));
        // Then both read as a configuration writes them, not PT1.5S
        assertEquals(List.of(
                "admin.request_head_timeout: '1s500ms' (in use: '5s')",
                "admin.keepalive_timeout: '1m30s' (in use: '1m')"), ConfigReloader.needsRestart(RUNNING, next));
    }

    @Test
    void shouldNameTurningTlsOff() {
        CloseWatchConfig wss = RUNNING.withTls(new TlsConfig("/etc/tls/tls.crt", "/etc/tls/tls.key", null, null));
        assertEquals(List.of("tls: removed (in use: wss://)"), ConfigReloader.needsRestart(wss, RUNNING));
    }
}
