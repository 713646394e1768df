package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a configuration: every problem in one pass, each with its line and key path. */
class ConfigLoaderTest {

    @TempDir
    Path dir;

    private ConfigException failing(String yaml) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, yaml);
        return assertThrows(ConfigException.class, () -> new ConfigLoader().load(file));
    }

    @Test
    void shouldListFiveMistakesOfFiveKindsInOnePass() throws Exception {
        // Given a file with a misspelt key, a wrong number, a bad duration, a scalar for a
        // mapping, a misspelt key in a list item and a value out of range
        ConfigException e = failing("""
                listen: 0.0.0.0:8080
                admin:
                  listn: 127.0.0.1:9091
                limits:
                  max_connections: lots
                  handshake_timeout: 1m30s
                drain:
                  timeout: 10 seconds
                keepalive: 5
                routes:
                  - name: chat
                    path_prefix: /chat
                    upstream: ws://chat.internal
                    hots: example.com
                  - name: api
                    path_prefix: api
                    upstream: ws://api.internal:9000
                """);

        // Then every one is listed, in file order, with its line, key path and what was expected
        assertEquals(List.of(
                "line 3: admin.listn: unknown key (did you mean listen?)",
                "line 5: limits.max_connections: 'lots' (expected: a whole number)",
                "line 8: drain.timeout: '10 seconds' (expected: a duration such as 250ms, 5s, 1m30s or 1h)",
                "line 9: keepalive: '5' (expected: a mapping of keys, one 'key: value' per line)",
                "line 14: routes[0].hots: unknown key (did you mean host?)",
                "line 16: routes[1].path_prefix: 'api' (expected: a path starting with /)"), e.errors());
        assertEquals(e.getMessage().lines().findFirst().orElseThrow(), dir.resolve("c.yaml") + ": 6 configuration error(s):");
    }

    @Test
    void shouldReportWrongTypesAndLeaveOutTheEchoesOfAKeyThatFailed() throws Exception {
        // Given
        ConfigException e = failing("""
                listen: {host: a}
                routes: chat
                proxy_protocol: maybe
                log:
                  normal_level: loud
                trusted_proxies:
                  cidr: 10.0.0.0/8
                """);

        // Then "routes: chat" is one error, not also "routes: [] (expected: at least one route)"
        assertEquals(List.of(
                "line 1: listen: a mapping (expected: a single value, not a list or mapping)",
                "line 2: routes: 'chat' (expected: a list, one '- item' per line)",
                "line 3: proxy_protocol: 'maybe' (expected: true or false)",
                "line 5: log.normal_level: 'loud' (expected one of: trace, debug, info, warn, error)",
                "line 7: trusted_proxies: a mapping (expected: a list, one '- item' per line)"), e.errors());
    }

    @Test
    void shouldListTheKnownKeysWhenNoneIsNear() throws Exception {
        // Given
        ConfigException e = failing("routes:\n  - {name: a, upstream: 'ws://h:1'}\nzzzzzz: 1\n");

        // Then
        assertEquals(List.of("line 3: zzzzzz: unknown key (expected one of: admin, codes, diagnosis, drain, keepalive, "
                + "limits, listen, log, otlp, proxy_protocol, reconnect, routes, tls, trusted_proxies, upstream)"), e.errors());
    }

    @Test
    void shouldGiveTheLineAndColumnOfAYamlSyntaxError() throws Exception {
        // Given / When
        ConfigException e = failing("listen: [a\nroutes: x: y\n");
        ConfigException indent = failing("listen: 0.0.0.0:1\n admin: 2\n");

        // Then
        assertEquals(List.of("line 2: not valid YAML: expected ',' or ']', but got : (column 7; while parsing a flow "
                + "sequence started on line 1)"), e.errors());
        assertEquals(List.of("line 2: not valid YAML: mapping values are not allowed here (column 7)"), indent.errors());
    }

    @Test
    void shouldRefuseAKeyWrittenTwice() throws Exception {
        // Given
        ConfigException e = failing("routes:\n  - {name: a, upstream: 'ws://h:1'}\nlisten: 0.0.0.0:1\nlisten: 0.0.0.0:2\n");

        // Then
        assertEquals(1, e.errors().size(), e.errors().toString());
        assertEquals("line 4: not valid YAML: Duplicate field 'listen'", e.errors().get(0).replaceAll(" \\(column.*", ""));
    }

    @Test
    void shouldGiveValidationErrorsTheLineOfTheirKey() throws Exception {
        // Given
        ConfigException e = failing("""
                drain:
                  close_code: 1000
                routes:
                  - name: a
                    upstream: ws://h:0
                """);

        // Then
        assertEquals(List.of(
                "line 2: drain.close_code: 1000 (expected: 1012 or 1001)",
                "line 5: routes[0].upstream: 'ws://h:0' (expected: ws://HOST[:PORT][/path] or wss://HOST[:PORT][/path], "
                        + "e.g. ws://127.0.0.1:9000)"), e.errors());
    }

    @Test
    void shouldAcceptCompoundDurations() throws Exception {
        // Given
        Path file = dir.resolve("ok.yaml");
        Files.writeString(file, "drain:\n  timeout: 1m30s\nroutes:\n  - {name: a, upstream: 'wss://h'}\n");

        // When
        CloseWatchConfig config = new ConfigLoader().load(file);

        // Then
        assertEquals(Duration.ofSeconds(90), config.drain().timeout());
        assertEquals(443, UpstreamUri.parse(config.routes().get(0).upstream()).address().port());
    }

    @Test
    void shouldMeasureEditsWithSwapsCountingOnce() {
        assertEquals(0, ConfigLoader.distance("listen", "listen"));
        assertEquals(1, ConfigLoader.distance("listn", "listen"));
        assertEquals(1, ConfigLoader.distance("lsiten", "listen"));
        assertEquals(2, ConfigLoader.distance("max_conection", "max_connections"));
        assertEquals(3, ConfigLoader.distance("", "abc"));
        assertEquals("max_connections", ConfigLoader.suggest("max_conection", List.of("max_connections", "max_streams")));
        assertEquals("path_prefix", ConfigLoader.suggest("PATH_PREFIX", List.of("path_prefix", "host")));
        assertNull(ConfigLoader.suggest("zzz", List.of("tls", "log")));
    }
}
