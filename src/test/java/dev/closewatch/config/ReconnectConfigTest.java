package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code reconnect:} keys: defaults, YAML, validation, and where a client key comes from. */
class ReconnectConfigTest {

    private static final Map<String, String> HEADERS = Map.of("x-device-id", "dev-42",
            "cookie", "theme=dark; sid=\"abc%20d\"; empty=");

    @Test
    void shouldDefaultToTheAddressAHundredThousandKeysTenMinutesAndFive() {
        assertEquals(new ReconnectConfig("address", 100_000, Duration.ofMinutes(10), 5), CloseWatchConfig.defaults().reconnect());
    }

    @Test
    void shouldReadTheKeysFromYamlAndRejectBadValuesByName(@TempDir Path dir) throws Exception {
        // Given a file with every reconnect key wrong
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "routes: [{name: r, upstream: 'ws://127.0.0.1:9'}]\n"
                + "reconnect: {key: 'header:', max_keys: 0, window: 500ms, storm_after: 1}\n");
        // When it is loaded and validated
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader().load(file));
        // Then each error names its key and what was expected
        for (String line : new String[] {
            "reconnect.key: 'header:' (expected: address, header:NAME, cookie:NAME or query:NAME)",
            "reconnect.max_keys: 0 (expected: 1-10000000)",
            "reconnect.window: PT0.5S (expected: 1s-1d, e.g. 10m)",
            "reconnect.storm_after: 1 (expected: 2-1000)"}) {
            assertTrue(e.getMessage().contains(line), e.getMessage());
        }
    }

    @Test
    void shouldTakeTheKeyFromTheAddressAHeaderACookieOrAQueryParameter() {
        assertEquals("203.0.113.7", extract("address", null));
        assertEquals("dev-42", extract("header:X-Device-Id", null));
        assertEquals("abc%20d", extract("cookie:sid", null));
        assertNull(extract("cookie:empty", null));
        assertNull(extract("cookie:none", null));
        assertEquals("u 1", extract("query:user", "a=1&user=u%201"));
        assertNull(extract("query:user", "a=1"));
        assertNull(extract("query:user", null));
    }

    @Test
    void shouldShipTheDocumentedDefaultsInTheDefaultConfig() throws Exception {
        CloseWatchConfig shipped = new ConfigLoader().load(Path.of("config/closewatch.yaml"));
        assertEquals(CloseWatchConfig.defaults().reconnect(), shipped.reconnect());
    }

    private static String extract(String spec, String query) {
        return ClientKeySource.parse(spec).extract("203.0.113.7", n -> HEADERS.get(n.toLowerCase(Locale.ROOT)), query);
    }
}
