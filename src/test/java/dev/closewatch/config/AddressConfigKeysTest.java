package dev.closewatch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys of real client addresses: {@code proxy_protocol}, {@code trusted_proxies}, {@code routes[].host_header}. */
class AddressConfigKeysTest {

    @TempDir
    Path dir;

    private CloseWatchConfig read(String yaml) throws Exception {
        Path file = dir.resolve("closewatch.yaml");
        Files.writeString(file, yaml);
        return new ConfigLoader().read(file);
    }

    @Test
    void shouldBindTheKeys() throws Exception {
        // Given every key set
        CloseWatchConfig config = read("""
                proxy_protocol: true
                trusted_proxies: [10.0.0.0/8, "fd00::/8", 192.0.2.7]
                routes:
                  - name: chat
                    upstream: ws://chat:9000
                    host_header: upstream
                """);
        // Then they bind and validate
        assertTrue(config.proxyProtocol());
        assertEquals(List.of("10.0.0.0/8", "fd00::/8", "192.0.2.7"), config.trustedProxies());
        assertEquals(RouteConfig.HOST_HEADER_UPSTREAM, config.routes().get(0).hostHeader());
        assertEquals(List.of(), config.validate());
    }

    @Test
    void shouldDefaultToNoProxyProtocolNoTrustAndPreservedHost() throws Exception {
        CloseWatchConfig config = read("routes:\n  - name: chat\n    upstream: ws://chat:9000\n");
        assertFalse(config.proxyProtocol());
        assertEquals(List.of(), config.trustedProxies());
        assertEquals(RouteConfig.HOST_HEADER_PRESERVE, config.routes().get(0).hostHeader());
    }

    @Test
    void shouldDocumentTheKeysWithTheirDefaultsInTheShippedConfig() throws Exception {
        // Given the shipped config
        Path shipped = Path.of("config/closewatch.yaml");
        CloseWatchConfig config = new ConfigLoader().load(shipped);
        String text = Files.readString(shipped);
        // Then it sets every new key to its default
        assertTrue(text.contains("\nproxy_protocol: false\n"), "proxy_protocol documented");
        assertTrue(text.contains("\ntrusted_proxies: []\n"), "trusted_proxies documented");
        assertTrue(text.contains("    host_header: preserve\n"), "routes[].host_header documented");
        CloseWatchConfig defaults = CloseWatchConfig.defaults();
        assertEquals(defaults.proxyProtocol(), config.proxyProtocol());
        assertEquals(defaults.trustedProxies(), config.trustedProxies());
    }

    @Test
    void shouldNameBadValues() throws Exception {
        // Given a host name, a too-long prefix and an unknown host_header value
        CloseWatchConfig config = read("""
                trusted_proxies: [proxy.example, 10.0.0.0/33, "::1/129"]
                routes:
                  - name: chat
                    upstream: ws://chat:9000
                    host_header: rewrite
                """);
        // Then each is named with its key path and what was expected
        assertEquals(List.of(
                "routes[0].host_header: 'rewrite' (expected: preserve or upstream)",
                "trusted_proxies[0]: 'proxy.example' (expected: an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or fd00::/8)",
                "trusted_proxies[1]: '10.0.0.0/33' (expected: a prefix length 0-32 after the slash)",
                "trusted_proxies[2]: '::1/129' (expected: a prefix length 0-128 after the slash)"), config.validate());
    }

    @Test
    void shouldClearHostBitsOfABlock() {
        assertEquals("10.0.0.0/8", Cidr.parse("10.1.2.3/8").toString());
        assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse("10.255.255.255/8"));
        assertEquals("192.0.2.7/32", Cidr.parse("192.0.2.7").toString());
    }
}
