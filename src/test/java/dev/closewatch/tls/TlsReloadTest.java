package dev.closewatch.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.cli.CloseWatchApp;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.TlsConfig;
import dev.closewatch.config.UpstreamConfig;
import dev.closewatch.config.UpstreamTlsConfig;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawSocket;
import dev.closewatch.testing.WsFrame;
import io.micrometer.core.instrument.Gauge;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS files replaced on disk while closewatch runs, the way a Kubernetes Secret volume replaces
 * them: {@code tls.crt} and {@code tls.key} are symlinks through {@code ..data}, itself a symlink
 * to a timestamped directory that is swapped by one atomic rename. New handshakes get the new
 * certificate, an open wss session keeps relaying, a broken replacement is refused and the
 * certificate in use stays; a replaced upstream CA is used for new upstream handshakes.
 */
@SuppressWarnings("deprecation") // SelfSignedCertificate: deprecated in Netty 4.2 for netty-pkitesting, still right for a test CA
class TlsReloadTest {

    /** The TLS files are polled every 5 s: a change must be seen well within this. */
    private static final Duration SEEN_WITHIN = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private int generation;

    /** Writes {@code cert} and {@code key} into a new timestamped directory and swaps {@code ..data} to it atomically. */
    private void publish(byte[] cert, byte[] key) throws IOException {
        Path data = dir.resolve("..2026_11_29_" + (++generation));
        Files.createDirectory(data);
        Files.write(data.resolve("tls.crt"), cert);
        Files.write(data.resolve("tls.key"), key);
        Path next = dir.resolve("..data_tmp");
        Files.createSymbolicLink(next, data.getFileName());
        Files.move(next, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        if (!Files.exists(dir.resolve("tls.crt"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(dir.resolve("tls.crt"), Path.of("..data", "tls.crt"));
            Files.createSymbolicLink(dir.resolve("tls.key"), Path.of("..data", "tls.key"));
        }
    }

    private void publish(SelfSignedCertificate c) throws IOException {
        publish(Files.readAllBytes(c.certificate().toPath()), Files.readAllBytes(c.privateKey().toPath()));
    }

    private static SelfSignedCertificate certificate(Instant notAfter) throws Exception {
        return new SelfSignedCertificate("localhost", Date.from(Instant.now().minus(1, ChronoUnit.DAYS)),
                Date.from(notAfter));
    }

    /** A TLS connection to the proxy that trusts anything, after its handshake. */
    private static SSLSocket connect(int port) throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.startHandshake();
        return socket;
    }

    private static BigInteger servedSerial(int port) throws Exception {
        try (SSLSocket socket = connect(port)) {
            return serial(socket);
        }
    }

    private static BigInteger serial(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }

    private static BigInteger serial(SelfSignedCertificate c) {
        return c.cert().getSerialNumber();
    }

    /** Opens a wss session over {@code socket}: the opening handshake, then 101. */
    private static RawSocket session(SSLSocket socket) throws IOException {
        RawSocket raw = new RawSocket(socket);
        raw.writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertEquals(101, raw.readHead().status());
        return raw;
    }

    private static void echo(RawSocket session, String text) throws IOException {
        session.write(Frames.masked(true, Frames.TEXT, text.getBytes(StandardCharsets.UTF_8)));
        WsFrame answer = session.readFrame();
        assertEquals(text, new String(answer.payload(), StandardCharsets.UTF_8));
    }

    private static void close(RawSocket session) throws IOException {
        session.write(Frames.masked(true, Frames.CLOSE, Frames.closeBody(1000, "")));
        assertEquals(1000, session.readFrame().closeCode());
        assertTrue(session.peerClosed());
    }

    @Test
    void shouldServeTheReplacedCertificateToNewHandshakesWhileTheOpenSessionKeepsRelaying() throws Exception {
        // Given closewatch serving certificate A from Secret-style symlinked files
        Instant expiryA = Instant.now().plus(30, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        Instant expiryB = Instant.now().plus(90, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        SelfSignedCertificate a = certificate(expiryA);
        SelfSignedCertificate b = certificate(expiryB);
        assertNotEquals(serial(a), serial(b));
        publish(a);
        String certFile = dir.resolve("tls.crt").toString();
        try (ProxyHarness h = ProxyHarness.start(c -> c.withTls(new TlsConfig(certFile,
                dir.resolve("tls.key").toString(), null, null)))) {
            assertEquals(serial(a), servedSerial(h.port()));
            Gauge expiry = h.app.registry().find("closewatch.tls.certificate.expiry.seconds")
                    .tags("role", "listener", "file", certFile).gauge();
            assertEquals(Duration.between(Instant.now(), expiryA).toSeconds(), expiry.value(), 60);
            SSLSocket socketA = connect(h.port());
            assertEquals(serial(a), serial(socketA));
            try (RawSocket open = session(socketA)) {
                echo(open, "before the rotation");
                // When the Secret is rotated to certificate B
                publish(b);
                // Then a new handshake gets B
                await().atMost(SEEN_WITHIN).until(() -> servedSerial(h.port()).equals(serial(b)));
                assertEquals(1.0, h.count("closewatch.tls.reloads", "role", "listener", "result", "success"));
                Gauge expiryNow = h.app.registry().find("closewatch.tls.certificate.expiry.seconds")
                        .tags("role", "listener", "file", certFile).gauge();
                assertEquals(Duration.between(Instant.now(), expiryB).toSeconds(), expiryNow.value(), 60);
                // and the session opened with A keeps relaying
                echo(open, "after the rotation");
                try (RawSocket fresh = session(connect(h.port()))) {
                    echo(fresh, "new session on B");
                    close(fresh);
                }
                // When a certificate is published with a key that is not its own (a rotation caught half-way)
                publish(Files.readAllBytes(a.certificate().toPath()), Files.readAllBytes(b.privateKey().toPath()));
                // Then it is refused, and B stays in use
                await().atMost(SEEN_WITHIN).until(() ->
                        h.count("closewatch.tls.reloads", "role", "listener", "result", "failure") == 1.0);
                assertEquals(serial(b), servedSerial(h.port()));
                echo(open, "after a refused rotation"); // (the raw upstream gives up after 10 s without a frame)
                // When a broken certificate is published
                publish("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"
                        .getBytes(StandardCharsets.US_ASCII), Files.readAllBytes(b.privateKey().toPath()));
                // Then it is refused, counted once, and B stays in use
                await().atMost(SEEN_WITHIN).until(() ->
                        h.count("closewatch.tls.reloads", "role", "listener", "result", "failure") == 2.0);
                assertEquals(serial(b), servedSerial(h.port()));
                assertEquals(1.0, h.count("closewatch.tls.reloads", "role", "listener", "result", "success"));
                echo(open, "still open");
                close(open);
            }
            // and the metric is scraped under its Prometheus name
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + h.adminPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("closewatch_tls_certificate_expiry_seconds{file=\"" + certFile
                    + "\",role=\"listener\"}"), metrics);
            assertTrue(metrics.contains("closewatch_config_last_reload_success_timestamp_seconds "), metrics);
        } finally {
            a.delete();
            b.delete();
        }
    }

    @Test
    void shouldVerifyNewUpstreamHandshakesAgainstAReplacedCaFile() throws Exception {
        // Given a wss upstream, and a CA file that does not (yet) hold its certificate
        SelfSignedCertificate upstreamCert = new SelfSignedCertificate("localhost");
        SelfSignedCertificate other = new SelfSignedCertificate("localhost");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            SslContext upstreamTls = SslContextBuilder.forServer(upstreamCert.certificate(), upstreamCert.privateKey()).build();
            Channel upstream = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(upstreamTls.newHandler(ch.alloc()), new HttpServerCodec(),
                                    new HttpObjectAggregator(65536), new WebSocketServerProtocolHandler("/", null, true));
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            Path ca = dir.resolve("ca.pem");
            Files.copy(other.certificate().toPath(), ca);
            int upstreamPort = ((InetSocketAddress) upstream.localAddress()).getPort();
            try (CloseWatchApp app = CloseWatchApp.start(CloseWatchConfig.defaults().withListen("127.0.0.1:0")
                    .withAdmin("127.0.0.1:0").withUpstream("wss://localhost:" + upstreamPort)
                    .withUpstreamTimeouts(new UpstreamConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), null,
                            new UpstreamTlsConfig(ca.toString(), false))))) {
                HttpClient client = HttpClient.newHttpClient();
                URI uri = URI.create("ws://127.0.0.1:" + app.proxy().address().getPort() + "/");
                // the upstream's certificate does not verify: 502
                assertTrue(upgradeFails(client, uri));
                // When the CA file is replaced by one holding the upstream's certificate (atomic rename)
                Path staged = dir.resolve(".ca.pem.tmp");
                Files.copy(upstreamCert.certificate().toPath(), staged);
                Files.move(staged, ca, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                // Then new sessions reach the upstream
                await().atMost(SEEN_WITHIN).pollInterval(Duration.ofMillis(500)).until(() -> !upgradeFails(client, uri));
                assertEquals(1.0, app.registry().find("closewatch.tls.reloads").tags("role", "upstream_ca", "result", "success")
                        .counter().count());
                assertTrue(app.registry().find("closewatch.tls.certificate.expiry.seconds")
                        .tags("role", "upstream_ca", "file", ca.toString()).gauge().value() > 0);
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            other.delete();
            upstreamCert.delete();
        }
    }

    /** Whether a WebSocket opening handshake through {@code uri} fails (502 when the upstream does not verify). */
    private static boolean upgradeFails(HttpClient client, URI uri) {
        try {
            java.net.http.WebSocket ws = client.newWebSocketBuilder().buildAsync(uri, new java.net.http.WebSocket.Listener() { })
                    .get(10, TimeUnit.SECONDS);
            ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
            ws.abort();
            return false;
        } catch (Exception e) {
            return true;
        }
    }
}
