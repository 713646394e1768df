package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Upstream URIs: the scheme's default port when none is written (RFC 6455 §3). */
class UpstreamUriTest {

    @Test
    void shouldTakePort80ForWsAnd443ForWssWhenNoneIsWritten() {
        // Given / When / Then
        assertEquals(new UpstreamUri(new HostPort("chat.internal", 80), "", false), UpstreamUri.parse("ws://chat.internal"));
        assertEquals(new UpstreamUri(new HostPort("chat.internal", 443), "/ws", true), UpstreamUri.parse("wss://chat.internal/ws"));
        assertEquals(new UpstreamUri(new HostPort("::1", 80), "", false), UpstreamUri.parse("ws://[::1]/"));
        assertEquals(new UpstreamUri(new HostPort("a", 443), "", true), UpstreamUri.parse("https://a"));
    }

    @Test
    void shouldKeepAWrittenPort() {
        assertEquals(new UpstreamUri(new HostPort("127.0.0.1", 9000), "", false), UpstreamUri.parse("ws://127.0.0.1:9000"));
        assertEquals(new UpstreamUri(new HostPort("h", 8443), "/p", true), UpstreamUri.parse("wss://h:8443/p/"));
        assertEquals("wss://h:443", UpstreamUri.parse("wss://h").toString());
    }

    @Test
    void shouldRefusePortZeroAndMissingHosts() {
        for (String bad : new String[] {"ws://h:0", "ws://", "ws:///path", "tcp://h:1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpstreamUri.parse(bad));
            assertEquals("'" + bad + "' (expected: ws://HOST[:PORT][/path] or wss://HOST[:PORT][/path], e.g. ws://127.0.0.1:9000)",
                    e.getMessage());
        }
    }
}
