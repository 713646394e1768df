package dev.closewatch.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.closewatch.config.AdminConfig;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigLoader;
import dev.closewatch.config.LogConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API's and the close-log rate limit's configuration keys: {@code admin.token},
 * {@code admin.recent_closes}, {@code admin.max_streams}, {@code admin.max_connections},
 * {@code admin.request_head_timeout}, {@code admin.keepalive_timeout}, {@code log.rate_limit.*} — bound from
 * YAML, defaulted, validated with messages naming key, value and expectation.
 */
class AdminConfigKeysTest {

    private static final String ROUTES = "routes:\n  - name: default\n    upstream: ws://127.0.0.1:9000\n";

    @TempDir
    Path dir;

    @Test
    void shouldBindEveryKey() throws Exception {
        // Given
        CloseWatchConfig config = load("""
                admin:
                  listen: 127.0.0.1:9191
                  token: abcdefghijklmnop-_.~+/==
                  recent_closes: 50
                  max_streams: 3
                  max_connections: 10
                  request_head_timeout: 2s
                  keepalive_timeout: 500ms
                log:
                  normal_level: info
                  rate_limit:
                    lines_per_second: 5
                    burst: 7
                    summary_interval: 30s
                """ + ROUTES);

        // Then
        assertEquals(new AdminConfig("127.0.0.1:9191", "abcdefghijklmnop-_.~+/==", 50, 3, 10, Duration.ofSeconds(2),
                Duration.ofMillis(500)), config.admin());
        assertEquals(new LogConfig.RateLimit(5, 7, Duration.ofSeconds(30)), config.log().rateLimit());
        assertEquals(List.of(), config.validate());
    }

    @Test
    void shouldDefaultEveryKey() throws Exception {
        // Given
        CloseWatchConfig config = load(ROUTES);

        // Then
        assertEquals(new AdminConfig("127.0.0.1:8081", null, 1000, 16, 64, Duration.ofSeconds(5), Duration.ofSeconds(60)),
                config.admin());
        assertEquals(new LogConfig.RateLimit(20, 100, Duration.ofSeconds(10)), config.log().rateLimit());
        assertEquals(new LogConfig.RateLimit(20, 100, Duration.ofSeconds(10)), new LogConfig(null).rateLimit());
        assertEquals(new AdminConfig("127.0.0.1:8081", null, 1000, 16), new AdminConfig(null));
    }

    @Test
    void shouldDocumentTheDefaultsInTheShippedConfig() throws Exception {
        // When the documented default configuration is loaded
        CloseWatchConfig config = new ConfigLoader().load(Path.of("config/closewatch.yaml"));

        // Then it spells out exactly the defaults (and leaves the token unset)
        assertEquals(new AdminConfig(null), config.admin());
        assertEquals(new LogConfig.RateLimit(null, null, null), config.log().rateLimit());
    }

    @Test
    void shouldTurnTheRateLimitOffWithZero() throws Exception {
        CloseWatchConfig config = load("log:\n  rate_limit:\n    lines_per_second: 0\n" + ROUTES);
        assertEquals(true, config.log().rateLimit().unlimited());
        assertEquals(List.of(), config.validate());
    }

    @Test
    void shouldNameBadConnectionLimitsAndTimeouts() throws Exception {
        // Given a bound that leaves no room for a health probe beside every stream, and timeouts out of range
        CloseWatchConfig config = load("""
                admin:
                  max_streams: 10
                  max_connections: 11
                  request_head_timeout: 50ms
                  keepalive_timeout: 2h
                """ + ROUTES);

        // When
        List<String> errors = config.validate();

        // Then
        assertEquals(List.of(
                "admin.max_connections: 11 (expected: at least admin.max_streams + 2 = 12, at most 100000, so a "
                        + "health probe always finds a connection)",
                "admin.request_head_timeout: 50ms (expected: 100ms-5m)",
                "admin.keepalive_timeout: 2h (expected: 100ms-1h)"), errors);
        assertEquals(List.of(), load("admin:\n  max_streams: 10\n  max_connections: 12\n" + ROUTES).validate());
    }

    @Test
    void shouldNameEveryBadValue() throws Exception {
        // Given
        CloseWatchConfig config = load("""
                admin:
                  token: short
                  recent_closes: 0
                  max_streams: 2000
                log:
                  rate_limit:
                    lines_per_second: -1
                    burst: 0
                    summary_interval: 500ms
                """ + ROUTES);

        // When
        List<String> errors = config.validate();

        // Then
        assertEquals(List.of(
                "admin.token: <hidden, 5 characters> (expected: at least 16 of A-Z a-z 0-9 - . _ ~ + /, a bearer token as in RFC 6750)",
                "admin.recent_closes: 0 (expected: 1-100000)",
                "admin.max_streams: 2000 (expected: 0-1024; 0 = no /api/closes/stream)",
                "log.rate_limit.lines_per_second: -1 (expected: >= 0; 0 = unlimited)",
                "log.rate_limit.burst: 0 (expected: >= 1)",
                "log.rate_limit.summary_interval: 500ms (expected: >= 1s)"), errors);
    }

    @Test
    void shouldNeverPrintTheTokenAndKeepItWhenTheListenAddressIsOverridden() throws Exception {
        // Given
        CloseWatchConfig config = load("admin:\n  token: abcdefghijklmnopqrstuvwxyz\n" + ROUTES);

        // When --admin overrides the listen address
        CloseWatchConfig overridden = config.withAdmin("127.0.0.1:0");

        // Then
        assertEquals("abcdefghijklmnopqrstuvwxyz", overridden.admin().token());
        assertEquals("127.0.0.1:0", overridden.admin().listen());
        assertEquals("AdminConfig[listen=127.0.0.1:0, token=<hidden>, recentCloses=1000, maxStreams=16, "
                + "maxConnections=64, requestHeadTimeout=PT5S, keepaliveTimeout=PT1M]",
                overridden.admin().toString());
        assertFalse(overridden.toString().contains("abcdefghijklmnopqrstuvwxyz"));
    }

    private CloseWatchConfig load(String yaml) throws Exception {
        Path file = dir.resolve("closewatch.yaml");
        Files.writeString(file, yaml);
        return new ConfigLoader().read(file);
    }
}
