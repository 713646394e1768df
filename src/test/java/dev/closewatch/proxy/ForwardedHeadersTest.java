package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.CLOSE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.config.RouteConfig;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawSocket;
import dev.closewatch.websocket.CloseEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code X-Forwarded-For}, {@code -Proto} and {@code -Host} end to end over loopback: what the
 * upstream receives and what the close event names as {@code client}, from an untrusted peer (its
 * own headers replaced: a spoofed address never shows up) and from a peer in
 * {@code trusted_proxies} (its headers honoured, the peer appended); and {@code host_header}.
 */
class ForwardedHeadersTest {

    /** Opens a session with {@code extraHeaders}, closes it with 1000; returns the upstream's request head and the event. */
    private static Seen session(ProxyHarness h, String host, String extraHeaders) throws Exception {
        int clientPort;
        try (RawClient c = RawClient.connect(h.port())) {
            clientPort = c.localPort();
            c.writeAscii("GET /chat HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n");
            assertEquals(101, c.readHead().status());
            c.send(true, CLOSE, Frames.closeBody(1000, ""));
            c.readFrame();
        }
        CloseEvent event = h.nextEvent();
        RawSocket.Head request = h.upstream.connections().stream().reduce((a, b) -> b).orElseThrow().request();
        return new Seen(request, event, clientPort);
    }

    private record Seen(RawSocket.Head request, CloseEvent event, int clientPort) {
        String header(String name) {
            return request.headers().get(name);
        }
    }

    @Test
    void shouldReplaceForwardedHeadersFromAnUntrustedPeer() throws Exception {
        // Given no trusted proxies
        try (ProxyHarness h = ProxyHarness.start()) {
            // When a client sends made-up X-Forwarded-* headers
            Seen seen = session(h, "chat.example", "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\n"
                    + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: bank.example\r\nForwarded: for=6.6.6.6\r\n");
            // Then the upstream gets what closewatch saw, and the event names the TCP peer
            assertEquals("127.0.0.1", seen.header("x-forwarded-for"));
            assertEquals("http", seen.header("x-forwarded-proto"));
            assertEquals("chat.example", seen.header("x-forwarded-host"));
            assertEquals("127.0.0.1:" + seen.clientPort(), seen.event().client());
            assertEquals(null, seen.header("forwarded"), "RFC 7239 Forwarded from an untrusted peer is dropped");
        }
    }

    @Test
    void shouldHonourForwardedHeadersFromATrustedPeer() throws Exception {
        // Given loopback is a trusted proxy, and so is 10.0.0.0/8 (a proxy in front of it)
        try (ProxyHarness h = ProxyHarness.start(c -> c.withTrustedProxies(List.of("127.0.0.0/8", "10.0.0.0/8")))) {
            // When it forwards a chain over two header lines: spoofed, client, inner proxy
            Seen seen = session(h, "chat.internal", "X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\nX-Forwarded-For: 10.1.2.3\r\n"
                    + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: chat.example\r\nForwarded: for=203.0.113.9\r\n");
            // Then the client is the right-most untrusted address, and the chain goes on with the peer appended
            assertEquals("203.0.113.9", seen.event().client());
            assertEquals("6.6.6.6, 203.0.113.9, 10.1.2.3, 127.0.0.1", seen.header("x-forwarded-for"));
            assertEquals("https", seen.header("x-forwarded-proto"));
            assertEquals("chat.example", seen.header("x-forwarded-host"));
            assertEquals("for=203.0.113.9", seen.header("forwarded"));
        }
    }

    @Test
    void shouldUseThePeerWhenATrustedPeerSendsNoChain() throws Exception {
        // Given a trusted IPv6 block that does not hold 127.0.0.1, and a trusted loopback
        try (ProxyHarness h = ProxyHarness.start(c -> c.withTrustedProxies(List.of("::1/128", "127.0.0.1")))) {
            // When the trusted peer sends no X-Forwarded-* at all
            Seen seen = session(h, "chat.example", "");
            // Then it is the client itself, and the headers are closewatch's own
            assertEquals("127.0.0.1:" + seen.clientPort(), seen.event().client());
            assertEquals("127.0.0.1", seen.header("x-forwarded-for"));
            assertEquals("http", seen.header("x-forwarded-proto"));
            assertEquals("chat.example", seen.header("x-forwarded-host"));
        }
    }

    @Test
    void shouldSendTheUpstreamsHostWithHostHeaderUpstream() throws Exception {
        try (ProxyHarness h = ProxyHarness.start(c -> c.withRoutes(List.of(new RouteConfig("default", "/", null,
                c.routes().get(0).upstream(), null, null, RouteConfig.HOST_HEADER_UPSTREAM))))) {
            // Given a route with host_header: upstream
            // When a client asks for chat.example
            Seen seen = session(h, "chat.example:8080", "");
            // Then the upstream sees its own host:port as written, and the client's in X-Forwarded-Host
            assertEquals("127.0.0.1:" + h.upstream.port(), seen.header("host"));
            assertEquals("chat.example:8080", seen.header("x-forwarded-host"));
        }
    }

    @Test
    void shouldPreserveTheClientsHostByDefault() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given the default host_header: preserve
            // When a client asks for chat.example
            Seen seen = session(h, "chat.example:8080", "");
            // Then the upstream sees the client's Host unchanged
            assertEquals("chat.example:8080", seen.header("host"));
            assertEquals("chat.example:8080", seen.header("x-forwarded-host"));
        }
    }
}
