package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.CLOSE;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.closewatch.observe.RequestRejections;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawSocket;
import dev.closewatch.testing.RawUpstream;
import dev.closewatch.websocket.CloseEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code proxy_protocol: true} end to end over loopback: PROXY protocol v1 and v2 headers written
 * by a raw socket and by a real HAProxy ({@code send-proxy}, {@code send-proxy-v2}) make the
 * header's source the session's {@code client} and the upstream's {@code X-Forwarded-For}; the
 * header never reaches the upstream; a connection without a valid header is closed and counted.
 */
class ProxyProtocolTest {

    private static final String UPGRADE = "GET /chat HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private static ProxyHarness proxy() throws Exception {
        return ProxyHarness.start(c -> c.withProxyProtocol(true));
    }

    /** A PROXY v2 header (PROXY command, TCP over IPv4 or IPv6), as HAProxy's specification lays it out. */
    static byte[] v2(String source, int sourcePort, String destination, int destinationPort) throws IOException {
        byte[] src = InetAddress.getByName(source).getAddress();
        byte[] dst = InetAddress.getByName(destination).getAddress();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        out.write(0x21); // version 2, PROXY
        out.write(src.length == 4 ? 0x11 : 0x21); // TCP over IPv4 / IPv6
        int length = 2 * src.length + 4;
        out.write(length >> 8);
        out.write(length & 0xff);
        out.write(src);
        out.write(dst);
        out.write(sourcePort >> 8);
        out.write(sourcePort & 0xff);
        out.write(destinationPort >> 8);
        out.write(destinationPort & 0xff);
        return out.toByteArray();
    }

    /** Opens a session after {@code header}, closes it with 1000; returns its close event and the upstream's request. */
    private static CloseEvent sessionAfter(ProxyHarness h, byte[] header) throws Exception {
        try (RawClient c = RawClient.connect(h.port())) {
            c.write(header);
            c.writeAscii(UPGRADE);
            assertEquals(101, c.readHead().status());
            c.send(true, CLOSE, Frames.closeBody(1000, ""));
            c.readFrame();
        }
        return h.nextEvent();
    }

    private static RawSocket.Head lastUpstreamRequest(ProxyHarness h) {
        return h.upstream.connections().stream().reduce((a, b) -> b).orElseThrow().request();
    }

    @Test
    void shouldTakeTheClientFromAProxyV1Header() throws Exception {
        try (ProxyHarness h = proxy()) {
            // Given a PROXY v1 header naming 203.0.113.7:51234 before the opening handshake
            byte[] header = "PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n".getBytes(StandardCharsets.US_ASCII);
            // When a session opens and closes behind it
            CloseEvent event = sessionAfter(h, header);
            // Then the header's source is the client, for the event and for the upstream
            assertEquals("203.0.113.7:51234", event.client());
            assertEquals("203.0.113.7", lastUpstreamRequest(h).headers().get("x-forwarded-for"));
            // and the upstream's first bytes were the request line, not the header
            assertEquals("GET /chat HTTP/1.1", lastUpstreamRequest(h).startLine());
            assertEquals(0.0, h.count(RequestRejections.NAME, "reason", "proxy_protocol"));
        }
    }

    @Test
    void shouldTakeTheClientFromAProxyV2HeaderOverIpv4AndIpv6() throws Exception {
        try (ProxyHarness h = proxy()) {
            // Given PROXY v2 headers naming an IPv4 and an IPv6 source
            // When a session opens and closes behind each
            CloseEvent v4 = sessionAfter(h, v2("198.51.100.20", 40000, "127.0.0.1", 8080));
            String forwardedV4 = lastUpstreamRequest(h).headers().get("x-forwarded-for");
            CloseEvent v6 = sessionAfter(h, v2("2001:db8::42", 40001, "::1", 8080));
            String forwardedV6 = lastUpstreamRequest(h).headers().get("x-forwarded-for");
            // Then each header's source is the client
            assertEquals("198.51.100.20:40000", v4.client());
            assertEquals("198.51.100.20", forwardedV4);
            assertEquals("[2001:db8:0:0:0:0:0:42]:40001", v6.client());
            assertEquals("2001:db8:0:0:0:0:0:42", forwardedV6);
        }
    }

    @Test
    void shouldJudgeTrustByTheProxyHeadersSourceNotByTheBalancer() throws Exception {
        // Given PROXY protocol from a balancer on loopback, and loopback trusted for X-Forwarded-*
        try (ProxyHarness h = ProxyHarness.start(c -> c.withProxyProtocol(true).withTrustedProxies(List.of("127.0.0.0/8")))) {
            // When the header names an untrusted source that sends a spoofed X-Forwarded-For
            byte[] header = "PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n".getBytes(StandardCharsets.US_ASCII);
            try (RawClient c = RawClient.connect(h.port())) {
                c.write(header);
                c.writeAscii(UPGRADE.replace("\r\n\r\n", "\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"));
                assertEquals(101, c.readHead().status());
                c.send(true, CLOSE, Frames.closeBody(1000, ""));
                c.readFrame();
            }
            // Then the spoofed address is dropped: the immediate peer is the PROXY source, which is not trusted
            assertEquals("203.0.113.7:51234", h.nextEvent().client());
            assertEquals("203.0.113.7", lastUpstreamRequest(h).headers().get("x-forwarded-for"));
        }
    }

    @Test
    void shouldKeepTheTcpPeerForALocalCommand() throws Exception {
        try (ProxyHarness h = proxy()) {
            // Given a PROXY v2 LOCAL header (a balancer's own health check): no addresses
            byte[] local = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};
            try (RawClient c = RawClient.connect(h.port())) {
                c.write(local);
                c.writeAscii(UPGRADE);
                assertEquals(101, c.readHead().status());
                int localPort = c.localPort();
                c.send(true, CLOSE, Frames.closeBody(1000, ""));
                c.readFrame();
                // Then the client is the TCP peer itself
                assertEquals("127.0.0.1:" + localPort, h.nextEvent().client());
            }
        }
    }

    @Test
    void shouldCloseAndCountAConnectionWithoutAValidHeader() throws Exception {
        try (ProxyHarness h = proxy()) {
            // Given proxy_protocol on
            for (String first : List.of(UPGRADE, "PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n" + UPGRADE)) {
                // When a connection starts without a header, or with a garbled one
                try (RawClient c = RawClient.connect(h.port())) {
                    c.writeAscii(first);
                    // Then it is closed without any answer
                    assertEquals("", new String(answerBeforeClose(c), StandardCharsets.ISO_8859_1));
                }
            }
            // and each is counted, and nothing reached the upstream
            await().atMost(Duration.ofSeconds(5)).until(() -> h.count(RequestRejections.NAME, "reason", "proxy_protocol") == 2.0);
            assertEquals(0, h.upstream.connections().size());
        }
    }

    /** What came before the proxy closed: nothing, whether it ended with a FIN or a reset. */
    private static byte[] answerBeforeClose(RawSocket c) {
        try {
            return c.readToEnd();
        } catch (IOException reset) {
            return new byte[0];
        }
    }

    // --- a real HAProxy in front --------------------------------------------------------------

    /** The haproxy executable (Debian puts it in /usr/sbin, which a user's PATH may lack), or null. */
    private static Path haproxy() {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")) {
            if (Files.isExecutable(Path.of(dir, "haproxy"))) {
                return Path.of(dir, "haproxy");
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void shouldTakeTheClientFromRealHaproxySendProxyAndSendProxyV2(@TempDir Path dir) throws Exception {
        // CI installs haproxy (.ci/run); elsewhere the test is skipped when it is missing.
        Path executable = haproxy();
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(executable != null, "haproxy is not installed");
        }
        assertTrue(executable != null, "haproxy is not installed (.ci/run installs the Debian package)");
        try (ProxyHarness h = proxy()) {
            // Given HAProxy in TCP mode on two loopback ports, one sending PROXY v1, one v2, to closewatch
            int v1 = freePort();
            int v2 = freePort();
            Path cfg = dir.resolve("haproxy.cfg");
            Files.writeString(cfg, String.join("\n",
                    "global", "  maxconn 100",
                    "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
                    "frontend v1", "  bind 127.0.0.1:" + v1, "  default_backend closewatch_v1",
                    "frontend v2", "  bind 127.0.0.1:" + v2, "  default_backend closewatch_v2",
                    "backend closewatch_v1", "  server cw 127.0.0.1:" + h.port() + " send-proxy",
                    "backend closewatch_v2", "  server cw 127.0.0.1:" + h.port() + " send-proxy-v2", ""));
            Process haproxy = new ProcessBuilder(executable.toString(), "-db", "-f", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
            try {
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                    try (Socket a = new Socket("127.0.0.1", v1); Socket b = new Socket("127.0.0.1", v2)) {
                        return true;
                    }
                });
                h.clear();
                for (int port : new int[] {v1, v2}) {
                    // When a client on 127.0.0.2 opens a session through HAProxy and closes it
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress("127.0.0.2", 0));
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    int clientPort = s.getLocalPort();
                    try (RawSocket c = new RawSocket(s)) {
                        c.writeAscii(UPGRADE);
                        assertEquals(101, c.readHead().status());
                        c.write(Frames.masked(true, CLOSE, Frames.closeBody(1000, "")));
                        c.readFrame();
                    }
                    // Then the client is the one HAProxy saw (127.0.0.2), not HAProxy's own 127.0.0.1 connection
                    CloseEvent event = h.nextEvent();
                    assertEquals("127.0.0.2:" + clientPort, event.client(), "through send-proxy" + (port == v2 ? "-v2" : ""));
                    assertEquals("127.0.0.2", lastUpstreamRequest(h).headers().get("x-forwarded-for"));
                    assertEquals("GET /chat HTTP/1.1", lastUpstreamRequest(h).startLine());
                }
                assertEquals(0.0, h.count(RequestRejections.NAME, "reason", "proxy_protocol"));
            } finally {
                haproxy.destroy();
                if (!haproxy.waitFor(5, TimeUnit.SECONDS)) {
                    haproxy.destroyForcibly();
                }
            }
            assertTrue(h.upstream.errors().isEmpty(), h.upstream.errors().toString());
        }
    }
}
