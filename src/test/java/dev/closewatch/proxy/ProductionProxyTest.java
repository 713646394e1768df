package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.BINARY;
import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.PING;
import static dev.closewatch.testing.Frames.PONG;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.config.KeepaliveConfig;
import dev.closewatch.config.LimitsConfig;
import dev.closewatch.config.RouteConfig;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.testing.WsFrame;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The production features end to end over loopback: routes, limits, drain, keepalive. */
class ProductionProxyTest {

    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.UTF_8);

    private static int deadPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Opens a session through the proxy with a Host header, closes it with 1000, waits for its event. */
    private static void session(ProxyHarness h, String path, String host) throws Exception {
        try (RawClient c = RawClient.connect(h.port())) {
            c.writeAscii("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            assertEquals(101, c.readHead().status());
            c.send(true, CLOSE, Frames.closeBody(1000, ""));
            c.readFrame();
        }
        h.nextEvent();
    }

    @Test
    void shouldRouteByHostThenLongestPathPrefix() throws Exception {
        // Given three routes: default, /api, and everything for host chat.example
        try (RawUpstream chat = new RawUpstream(); RawUpstream api = new RawUpstream();
             ProxyHarness h = ProxyHarness.start(c -> c.withRoutes(List.of(
                     new RouteConfig("default", "/", null, c.routes().get(0).upstream(), null),
                     new RouteConfig("api", "/api", null, "ws://127.0.0.1:" + api.port(), null),
                     new RouteConfig("chat", "/", "chat.example", "ws://127.0.0.1:" + chat.port(), null))))) {
            // When
            session(h, "/api/v1", "other.example");
            session(h, "/anything", "CHAT.example:8080");
            session(h, "/api/v1", "chat.example");
            session(h, "/", "other.example");
            // Then
            assertEquals(1, api.connections().size(), "api takes /api for other hosts");
            assertEquals(2, chat.connections().size(), "a host route beats a longer path prefix");
            assertEquals(1, h.upstream.connections().size(), "default takes the rest");
            assertEquals(2.0, h.count("closewatch.sessions.opened", "route", "chat"));
            assertEquals(1.0, h.count("closewatch.sessions.opened", "route", "api"));
            assertEquals(1.0, h.count("closewatch.sessions.opened", "route", "default"));
        }
    }

    @Test
    void shouldBalanceRoundRobinFailOverAndBackOff() throws Exception {
        // Given a route over two live upstreams and a dead one
        int dead = deadPort();
        try (RawUpstream second = new RawUpstream();
             ProxyHarness h = ProxyHarness.start(c -> c.withRoutes(List.of(new RouteConfig("pool", "/", null, null,
                     List.of(c.routes().get(0).upstream(), "ws://127.0.0.1:" + dead, "ws://127.0.0.1:" + second.port())))))) {
            // When six sessions open
            for (int i = 0; i < 6; i++) {
                session(h, "/", "x");
            }
            // Then none failed, the dead upstream was tried once and then skipped while backing off
            assertEquals(1.0, h.count("closewatch.upstream.connect.failures", "route", "pool", "cause", "refused"));
            assertEquals(6, h.upstream.connections().size() + second.connections().size());
            assertTrue(h.upstream.connections().size() >= 2 && second.connections().size() >= 2,
                    h.upstream.connections().size() + " / " + second.connections().size());
            assertEquals(6.0, h.count("closewatch.upgrades", "route", "pool", "status", "101"));
        }
    }

    @Test
    void shouldAnswer503BeyondMaxConnections() throws Exception {
        // Given room for one client connection
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(new LimitsConfig(1, null, null, null, null)))) {
            try (RawClient first = RawClient.open(h.port(), "/")) {
                // When a second client comes
                try (RawClient second = RawClient.connect(h.port())) {
                    // Then it gets 503 and no upstream connection is made
                    assertEquals(503, second.handshake("/").status());
                }
                assertEquals(1, h.upstream.connections().size());
                assertEquals(1.0, h.count("closewatch.requests.rejected", "reason", "max_connections"));
                // and the first session is unaffected
                first.send(true, TEXT, HELLO);
                assertArrayEquals(HELLO, first.readFrame().payload());
            }
            // and once it is gone, a new client gets in
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().settings().connections().get() == 0);
            try (RawClient again = RawClient.open(h.port(), "/")) {
                assertEquals(101, again.response().status());
            }
        }
    }

    @Test
    void shouldAnswer408WhenTheRequestHeadIsTooSlow() throws Exception {
        // Given a 200 ms handshake timeout
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(
                new LimitsConfig(null, Duration.ofMillis(200), null, null, null)))) {
            // When a client sends half a request line and stalls
            try (RawClient slow = RawClient.connect(h.port())) {
                slow.writeAscii("GET /chat HT");
                // Then
                var head = slow.readHead();
                assertEquals(408, head.status());
                slow.readBytes(Integer.parseInt(head.headers().get("content-length")));
                assertTrue(slow.peerClosed());
            }
            assertEquals(1.0, h.count("closewatch.requests.rejected", "reason", "handshake_timeout"));
        }
    }

    @Test
    void shouldEndTheSessionWith1009And1001OnAFrameOverTheLimit() throws Exception {
        // Given a 1 KiB frame limit
        try (ProxyHarness h = ProxyHarness.start(c -> c.withLimits(new LimitsConfig(null, null, null, null, 1024L)))) {
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame text = conn.readFrame();
                conn.send(true, text.opcode(), text.payload());
                WsFrame close = conn.readFrame();
                conn.send(true, CLOSE, close.payload());
            });
            try (RawClient client = RawClient.open(h.port(), "/")) {
                client.send(true, TEXT, HELLO);
                client.readFrame();
                // When the client sends a 2 KiB frame
                client.send(true, BINARY, new byte[2048]);
                // Then it gets Close 1009 (unmasked) and answers it
                WsFrame close = client.readFrame();
                assertEquals(CLOSE, close.opcode());
                assertEquals(1009, close.closeCode());
                assertEquals(0, close.raw()[1] & 0x80, "server-to-client frames are unmasked");
                client.send(true, CLOSE, Frames.closeBody(1009, ""));
                assertTrue(client.peerClosed());
            }
            // and the upstream got the text, then a masked Close 1001 — never the big frame
            CloseEvent event = h.nextEvent();
            RawUpstream.Connection up = h.upstream.connections().peek();
            assertEquals(2, up.framesRead().size());
            WsFrame toUpstream = up.framesRead().get(1);
            assertEquals(1001, toUpstream.closeCode());
            assertEquals(0x80, toUpstream.raw()[1] & 0x80, "client-to-server frames are masked (§5.3)");
            assertEquals(1009, event.code());
            assertEquals(Initiator.PROXY, event.initiator());
            assertEquals(Cause.FRAME_TOO_BIG, event.cause());
            assertTrue(event.clean(), "both endpoints answered the proxy's Close");
            assertEquals(1.0, h.count("closewatch.closes", "route", "default", "code", "1009", "category",
                    "message_too_big", "initiator", "proxy"));
        }
    }

    @Test
    void shouldDrainWithCloseFramesAtFrameBoundaries() throws Exception {
        // Given a session in the middle of a client frame
        try (ProxyHarness h = ProxyHarness.start()) {
            RawClient client = RawClient.open(h.port(), "/");
            byte[] frame = Frames.masked(true, BINARY, new byte[300]);
            client.write(java.util.Arrays.copyOf(frame, 100));
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == 1);
            // When the proxy drains
            h.app.proxy().drain();
            // Then the client gets Close 1012 at once (the upstream→client stream is between frames)
            WsFrame close = client.readFrame();
            assertEquals(1012, close.closeCode());
            assertEquals("service restart", new String(close.payload(), 2, close.payload().length - 2, StandardCharsets.UTF_8));
            // and the upstream gets its Close only after the client's frame is complete
            RawUpstream.Connection up = h.upstream.connections().peek();
            assertEquals(0, up.framesRead().size());
            client.write(java.util.Arrays.copyOfRange(frame, 100, frame.length));
            client.send(true, CLOSE, close.payload());
            assertTrue(client.peerClosed(), "closed once both endpoints answered");
            client.close();
            CloseEvent event = h.nextEvent();
            assertEquals(1012, event.code());
            assertEquals(Initiator.PROXY, event.initiator());
            assertEquals(Cause.DRAIN, event.cause());
            assertTrue(event.clean());
            // echoUntilClose echoed the binary frame and answered the proxy's masked Close
            assertEquals(BINARY, up.framesRead().get(0).opcode());
            assertEquals(300, up.framesRead().get(0).payload().length);
            assertEquals(1012, up.framesRead().get(1).closeCode());
            assertEquals(0x80, up.framesRead().get(1).raw()[1] & 0x80);
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == 0);
        }
    }

    @Test
    void shouldPingClientsRelayTheirPongsAndCutSilentOnes() throws Exception {
        // Given Pings every 100 ms and a 400 ms ping timeout
        try (ProxyHarness h = ProxyHarness.start(c -> c.withKeepalive(
                new KeepaliveConfig(Duration.ofMillis(100), Duration.ofMillis(400), null, null, null)))) {
            h.upstream.script(conn -> {
                conn.accept();
                while (true) {
                    conn.readFrame();
                }
            });
            RawClient client = RawClient.open(h.port(), "/");
            // When the client answers a Ping
            WsFrame ping = client.readFrame();
            assertEquals(PING, ping.opcode());
            client.send(true, PONG, ping.payload());
            // Then the Pong travels on to the upstream (unsolicited Pongs are legal, RFC 6455 §5.5.3)
            await().atMost(Duration.ofSeconds(5)).until(() -> !h.upstream.connections().peek().framesRead().isEmpty());
            assertEquals(PONG, h.upstream.connections().peek().framesRead().get(0).opcode());
            // When the client then goes silent, it is cut and recorded as 1006 ping_timeout
            CloseEvent event = h.nextEvent();
            assertEquals(1006, event.code());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertEquals(Cause.PING_TIMEOUT, event.cause());
            assertEquals(1.0, h.count("closewatch.abnormal.closures", "route", "default", "initiator", "client",
                    "cause", "ping_timeout"));
            client.close();
        }
    }

    @Test
    void shouldCloseIdleSessionsWithTheConfiguredCode() throws Exception {
        // Given a 300 ms idle timeout closing with 1001
        try (ProxyHarness h = ProxyHarness.start(c -> c.withKeepalive(
                new KeepaliveConfig(null, null, Duration.ofMillis(300), 1001, null)))) {
            try (RawClient client = RawClient.open(h.port(), "/")) {
                // When nothing happens, Then the proxy closes the session with 1001
                WsFrame close = client.readFrame();
                assertEquals(1001, close.closeCode());
                client.send(true, CLOSE, close.payload());
                assertTrue(client.peerClosed());
            }
            CloseEvent event = h.nextEvent();
            assertEquals(1001, event.code());
            assertEquals(Initiator.PROXY, event.initiator());
            assertEquals(Cause.IDLE_TIMEOUT, event.cause());
            assertTrue(event.clean());
        }
    }

    @Test
    void shouldNameCustomCodesInMetricsAndLogsPerRoute() throws Exception {
        // Given 4001 catalogued for every route and 4002 only for route "chat"
        dev.closewatch.config.CustomCodeConfig tokenExpired = new dev.closewatch.config.CustomCodeConfig(4001,
                "Token Expired", null, null, "The access token expired.", null, "Refresh the token and reconnect.");
        dev.closewatch.config.CustomCodeConfig roomClosed = new dev.closewatch.config.CustomCodeConfig(4002,
                "Room Closed", null, "normal", "The chat room was closed.", null, "Leave the room view.");
        try (ProxyHarness h = ProxyHarness.start(c -> c.withCodes(List.of(tokenExpired)).withRoutes(List.of(
                new RouteConfig("default", "/", null, c.routes().get(0).upstream(), null),
                new RouteConfig("chat", "/chat", null, c.routes().get(0).upstream(), null, List.of(roomClosed)))))) {
            // When sessions end with 4001 and 4002 on both routes
            for (String path : List.of("/", "/chat")) {
                for (int code : new int[] {4001, 4002}) {
                    try (RawClient client = RawClient.open(h.port(), path)) {
                        client.send(true, CLOSE, Frames.closeBody(code, "app"));
                        client.readFrame();
                    }
                    CloseEvent event = h.nextEvent();
                    var line = h.logLine(event.sessionId());
                    if (code == 4001) {
                        assertEquals("Token Expired", ProxyHarness.kv(line, "name"));
                        assertEquals("Refresh the token and reconnect.", ProxyHarness.kv(line, "remedy"));
                    } else if (path.equals("/chat")) {
                        assertEquals("Room Closed", ProxyHarness.kv(line, "name"));
                    } else {
                        assertEquals("Private Use", ProxyHarness.kv(line, "name"));
                    }
                }
            }
            // Then catalogued codes get their own label; uncatalogued ones stay bucketed
            assertEquals(1.0, h.count("closewatch.closes", "route", "default", "code", "4001", "category", "private", "initiator", "client"));
            assertEquals(1.0, h.count("closewatch.closes", "route", "chat", "code", "4001", "category", "private", "initiator", "client"));
            assertEquals(1.0, h.count("closewatch.closes", "route", "chat", "code", "4002", "category", "private", "initiator", "client"));
            assertEquals(1.0, h.count("closewatch.closes", "route", "default", "code", "4xxx", "category", "private", "initiator", "client"));
        }
    }

    @Test
    void shouldDrainOnAdminRequestAndTurnUnready() throws Exception {
        try (ProxyHarness h = ProxyHarness.start(); RawClient client = RawClient.open(h.port(), "/")) {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String admin = "http://127.0.0.1:" + h.adminPort();
            assertEquals(200, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + "/readyz")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == 1);
            // When
            var drained = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + "/admin/drain"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            // Then
            assertEquals(202, drained.statusCode());
            assertEquals(503, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin + "/readyz")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
            WsFrame close = client.readFrame();
            assertEquals(1012, close.closeCode());
            client.send(true, CLOSE, close.payload());
            assertTrue(client.peerClosed());
            assertEquals(1012, h.nextEvent().code());
        }
    }
}
