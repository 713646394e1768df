package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code otlp:} section: defaults, binding from YAML, and every mistake reported with its line. */
class OtlpConfigTest {

    @TempDir
    Path dir;

    /** A config file of one route (lines 1-3) and {@code otlp}, the section from line 4 on. */
    private Path withOtlp(String otlp) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, """
                routes:
                  - name: chat
                    upstream: ws://127.0.0.1:9000
                """ + otlp);
        return file;
    }

    @Test
    void shouldBeOffByDefaultWithTheCollectorsDefaultEndpoints() {
        // Given no otlp section
        OtlpConfig otlp = CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9000").otlp();

        // Then nothing is exported, and the endpoints are a local collector's OTLP/HTTP ones
        assertFalse(otlp.enabled());
        assertEquals("http://127.0.0.1:4318/v1/metrics", otlp.metrics().endpoint());
        assertEquals("http://127.0.0.1:4318/v1/logs", otlp.logs().endpoint());
        assertEquals(Duration.ofSeconds(60), otlp.metrics().step());
        assertEquals("cumulative", otlp.metrics().aggregationTemporality());
        assertEquals(2048, otlp.logs().queueSize());
        assertEquals(512, otlp.logs().batchSize());
        assertEquals(Duration.ofSeconds(1), otlp.logs().exportInterval());
        assertEquals(Duration.ofSeconds(10), otlp.timeout());
        assertEquals(List.of(), CloseWatchConfig.defaults().withUpstream("ws://127.0.0.1:9000").validate());
    }

    @Test
    void shouldShipTheDocumentedDefaultsInTheDefaultConfig() throws Exception {
        // Given the shipped config/closewatch.yaml, which writes every otlp key
        CloseWatchConfig shipped = new ConfigLoader().load(Path.of("config/closewatch.yaml"));

        // Then its values are the defaults: nothing exported
        assertEquals(OtlpConfig.disabled(), shipped.otlp());
    }

    @Test
    void shouldBindEveryKeyFromYaml() throws Exception {
        // Given an otlp section with every key written
        Path file = withOtlp("""
                otlp:
                  headers:
                    Authorization: Bearer abc
                  resource_attributes:
                    deployment.environment.name: staging
                  timeout: 5s
                  metrics:
                    enabled: true
                    endpoint: https://collector.example:4318/v1/metrics
                    step: 30s
                    aggregation_temporality: delta
                  logs:
                    enabled: true
                    endpoint: http://127.0.0.1:4318/v1/logs
                    queue_size: 100
                    batch_size: 10
                    export_interval: 250ms
                """);

        // When it is loaded
        OtlpConfig otlp = new ConfigLoader().load(file).otlp();

        // Then every value is taken
        assertEquals(Map.of("Authorization", "Bearer abc"), otlp.headers());
        assertEquals(Map.of("deployment.environment.name", "staging"), otlp.resourceAttributes());
        assertEquals(Duration.ofSeconds(5), otlp.timeout());
        assertEquals(new OtlpConfig.Metrics(true, "https://collector.example:4318/v1/metrics", Duration.ofSeconds(30), "delta"),
                otlp.metrics());
        assertEquals(new OtlpConfig.Logs(true, "http://127.0.0.1:4318/v1/logs", 100, 10, Duration.ofMillis(250)), otlp.logs());
        assertTrue(otlp.enabled());
    }

    @Test
    void shouldRefuseAHeaderValueTheExportersHttpClientsWouldRefuseAtEveryExport() throws Exception {
        // Given header values with a control character, a DEL, and a character above U+00FF, and a
        // fine one with obs-text, a space and a tab
        Path file = withOtlp("""
                otlp:
                  headers:
                    X-Control: "a\\x01b"
                    X-Del: "a\\x7Fb"
                    X-Euro: "\\u20AC"
                    X-Fine: "caf\\u00E9 a\\tb"
                  logs:
                    enabled: true
                """);

        // When it is loaded
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader().load(file));

        // Then the three are refused, and the fine one is not
        // (at the headers' line: the loader's key paths are lowercase), never showing a value
        String expected = "' (expected: a field value of RFC 9110 §5.5: visible characters, spaces and tabs,"
                + " no control characters, nothing above U+00FF)";
        assertEquals(List.of("line 5: otlp.headers: the value of 'X-Control" + expected,
                "line 5: otlp.headers: the value of 'X-Del" + expected,
                "line 5: otlp.headers: the value of 'X-Euro" + expected), e.errors());
    }

    @Test
    void shouldListEveryOtlpMistakeWithItsLineInOnePass() throws Exception {
        // Given an otlp section with a misspelt key, a non-http endpoint, a batch larger than the
        // queue, an unknown temporality, a header name that is not a token and a bad duration
        Path file = withOtlp("""
                otlp:
                  headers:
                    "Bad Header": x
                  metrics:
                    enabled: true
                    endpoint: grpc://127.0.0.1:4317
                    aggregation_temporality: cumulative_delta
                  logs:
                    enabeld: true
                    endpoint: 127.0.0.1:4318
                    queue_size: 10
                    batch_size: 20
                    export_interval: soon
                """);

        // When it is loaded
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader().load(file));

        // Then every one is listed with its line, key path and what was expected (reading problems
        // first, as the loader reports them, then validation problems)
        assertEquals(List.of(
                "line 16: otlp.logs.export_interval: 'soon' (expected: a duration such as 250ms, 5s, 1m30s or 1h)",
                "line 12: otlp.logs.enabeld: unknown key (did you mean enabled?)",
                "line 9: otlp.metrics.endpoint: 'grpc://127.0.0.1:4317' (expected: an http:// or https:// URL with a host,"
                        + " e.g. http://127.0.0.1:4318/v1/metrics)",
                "line 13: otlp.logs.endpoint: '127.0.0.1:4318' (expected: an http:// or https:// URL with a host,"
                        + " e.g. http://127.0.0.1:4318/v1/logs)",
                "line 10: otlp.metrics.aggregation_temporality: 'cumulative_delta' (expected: cumulative or delta)",
                "line 15: otlp.logs.batch_size: 20 (expected: 1 to queue_size 10)",
                "line 5: otlp.headers: 'Bad Header' (expected: a header field name, a token of RFC 9110 §5.6.2)"),
                e.errors());
    }
}
