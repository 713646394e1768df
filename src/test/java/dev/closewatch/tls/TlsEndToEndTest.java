package dev.closewatch.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.cli.CloseWatchApp;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.TlsConfig;
import dev.closewatch.config.UpstreamConfig;
import dev.closewatch.config.UpstreamTlsConfig;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * wss:// on both legs with generated certificates: the JDK's WebSocket client → closewatch (TLS
 * listener) → a Netty wss echo upstream verified against a configured CA; and a certificate
 * nobody trusts → 1015 on either leg.
 */
@SuppressWarnings("deprecation") // SelfSignedCertificate: deprecated in Netty 4.2 for netty-pkitesting, still right for a test CA
class TlsEndToEndTest {

    private static SelfSignedCertificate proxyCert;
    private static SelfSignedCertificate upstreamCert;
    private static EventLoopGroup group;
    private static Channel upstream;

    @BeforeAll
    static void start() throws Exception {
        proxyCert = new SelfSignedCertificate("localhost");
        upstreamCert = new SelfSignedCertificate("localhost");
        SslContext upstreamTls = SslContextBuilder.forServer(upstreamCert.certificate(), upstreamCert.privateKey()).build();
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        upstream = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(upstreamTls.newHandler(ch.alloc()), new HttpServerCodec(),
                                new HttpObjectAggregator(65536), new WebSocketServerProtocolHandler("/", null, true),
                                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame msg) {
                                        ctx.writeAndFlush(msg.retain());
                                    }
                                });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    static Channel upstreamChannel() {
        return upstream;
    }

    @AfterAll
    static void stop() {
        upstream.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        proxyCert.delete();
        upstreamCert.delete();
    }

    private static CloseWatchApp proxy(String caFile) throws Exception {
        int upstreamPort = ((InetSocketAddress) upstream.localAddress()).getPort();
        return CloseWatchApp.start(CloseWatchConfig.defaults().withListen("127.0.0.1:0").withAdmin("127.0.0.1:0")
                .withTls(new TlsConfig(proxyCert.certificate().getPath(), proxyCert.privateKey().getPath(), null, null))
                .withUpstream("wss://localhost:" + upstreamPort)
                .withUpstreamTimeouts(new UpstreamConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), null,
                        new UpstreamTlsConfig(caFile, false))));
    }

    private static HttpClient trusting(SelfSignedCertificate cert) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = new FileInputStream(cert.certificate())) {
            store.setCertificateEntry("proxy", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).build();
    }

    @Test
    void shouldRelayWssToAWssUpstreamVerifiedAgainstTheConfiguredCa() throws Exception {
        // Given
        try (CloseWatchApp app = proxy(upstreamCert.certificate().getPath())) {
            LinkedBlockingQueue<CloseEvent> events = new LinkedBlockingQueue<>();
            app.observability().addCloseConsumer(events::add);
            CompletableFuture<String> echo = new CompletableFuture<>();
            CompletableFuture<Integer> closed = new CompletableFuture<>();
            // When a wss client talks through the proxy
            WebSocket ws = trusting(proxyCert).newWebSocketBuilder()
                    .buildAsync(URI.create("wss://localhost:" + app.proxy().address().getPort() + "/"), new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            echo.complete(data.toString());
                            w.request(1);
                            return null;
                        }

                        @Override
                        public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
                            closed.complete(statusCode);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            ws.sendText("over TLS twice", true);
            // Then
            assertEquals("over TLS twice", echo.get(10, TimeUnit.SECONDS));
            ws.sendClose(1000, "done").get(10, TimeUnit.SECONDS);
            assertEquals(1000, closed.get(10, TimeUnit.SECONDS));
            CloseEvent event = events.poll(10, TimeUnit.SECONDS);
            assertEquals(1000, event.code());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertTrue(event.clean());
        }
    }

    @Test
    void shouldRecord1015WhenTheUpstreamCertificateDoesNotVerify() throws Exception {
        // Given a proxy that trusts only the proxy's own certificate, not the upstream's
        try (CloseWatchApp app = proxy(proxyCert.certificate().getPath())) {
            LinkedBlockingQueue<CloseEvent> events = new LinkedBlockingQueue<>();
            app.observability().addCloseConsumer(events::add);
            // When a client tries to open a session
            CompletableFuture<WebSocket> ws = trusting(proxyCert).newWebSocketBuilder()
                    .buildAsync(URI.create("wss://localhost:" + app.proxy().address().getPort() + "/"),
                            new WebSocket.Listener() { });
            // Then it gets 502, and a 1015 is recorded against the upstream
            Throwable failure = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> ws.get(10, TimeUnit.SECONDS)).getCause();
            assertEquals(502, ((java.net.http.WebSocketHandshakeException) failure).getResponse().statusCode());
            CloseEvent event = events.poll(10, TimeUnit.SECONDS);
            assertEquals(1015, event.code());
            assertEquals(Initiator.UPSTREAM, event.initiator());
            assertEquals(Cause.TLS_HANDSHAKE, event.cause());
            assertEquals(1.0, app.registry().find("closewatch.closes").tag("code", "1015")
                    .tag("initiator", "upstream").counter().count());
            assertEquals(1.0, app.registry().find("closewatch.upstream.connect.failures").tag("cause", "tls_handshake")
                    .counter().count());
            assertEquals(0.0, app.registry().find("closewatch.sessions.active").gauge().value());
        }
    }

    @Test
    void shouldRecord1015WhenTheClientRejectsTheProxyCertificate() throws Exception {
        // Given a client that trusts only the upstream's certificate
        try (CloseWatchApp app = proxy(upstreamCert.certificate().getPath())) {
            LinkedBlockingQueue<CloseEvent> events = new LinkedBlockingQueue<>();
            app.observability().addCloseConsumer(events::add);
            // When it connects
            CompletableFuture<WebSocket> ws = trusting(upstreamCert).newWebSocketBuilder()
                    .buildAsync(URI.create("wss://localhost:" + app.proxy().address().getPort() + "/"),
                            new WebSocket.Listener() { });
            org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> ws.get(10, TimeUnit.SECONDS));
            // Then the proxy records a 1015 against the client
            CloseEvent event = events.poll(10, TimeUnit.SECONDS);
            assertEquals(1015, event.code());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertEquals(1.0, app.registry().find("closewatch.closes").tag("code", "1015")
                    .tag("initiator", "client").counter().count());
        }
    }

    @Test
    void shouldServeWssFromAPkcs12KeystoreToAnUnverifiedUpstream(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // Given the proxy's key and certificate in a PKCS#12 keystore, and upstream verification off
        KeyStore p12 = KeyStore.getInstance("PKCS12");
        p12.load(null, null);
        p12.setKeyEntry("closewatch", proxyCert.key(), "secret".toCharArray(),
                new java.security.cert.Certificate[] {proxyCert.cert()});
        java.nio.file.Path file = dir.resolve("closewatch.p12");
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(file)) {
            p12.store(out, "secret".toCharArray());
        }
        int upstreamPort = ((InetSocketAddress) upstream.localAddress()).getPort();
        try (CloseWatchApp app = CloseWatchApp.start(CloseWatchConfig.defaults().withListen("127.0.0.1:0")
                .withAdmin("127.0.0.1:0")
                .withTls(new TlsConfig(null, null, file.toString(), "secret"))
                .withUpstream("wss://localhost:" + upstreamPort)
                .withUpstreamTimeouts(new UpstreamConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), null,
                        new UpstreamTlsConfig(null, true))))) {
            CompletableFuture<String> echo = new CompletableFuture<>();
            // When
            WebSocket ws = trusting(proxyCert).newWebSocketBuilder()
                    .buildAsync(URI.create("wss://localhost:" + app.proxy().address().getPort() + "/"), new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            echo.complete(data.toString());
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            ws.sendText("pkcs12", true);
            // Then
            assertEquals("pkcs12", echo.get(10, TimeUnit.SECONDS));
            ws.abort();
        }
    }
}
