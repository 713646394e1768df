package dev.closewatch.tls;

import static dev.closewatch.testing.Frames.CLOSE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.config.TlsConfig;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawSocket;
import dev.closewatch.testing.WsFrame;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay's half-close handling behind a TLS listener: a TLS client ends its connection with
 * close_notify and a FIN, which the relay sees as the end of the client's input.
 */
@SuppressWarnings("deprecation") // SelfSignedCertificate: deprecated in Netty 4.2 for netty-pkitesting, still right for a test CA
class TlsHalfCloseTest {

    private static SelfSignedCertificate cert;

    @BeforeAll
    static void certificate() throws Exception {
        cert = new SelfSignedCertificate("localhost");
    }

    @AfterAll
    static void delete() {
        cert.delete();
    }

    private static ProxyHarness proxy() throws Exception {
        return ProxyHarness.start(c -> c.withTls(new TlsConfig(cert.certificate().getPath(), cert.privateKey().getPath(),
                null, null)));
    }

    /** A TLS socket to the proxy, trusting its certificate, after the opening handshake. */
    private static RawSocket open(ProxyHarness h) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = new FileInputStream(cert.certificate())) {
            store.setCertificateEntry("proxy", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", h.port());
        RawSocket raw = new RawSocket(socket);
        raw.writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertEquals(101, raw.readHead().status());
        return raw;
    }

    @Test
    void shouldRecordATlsClientThatClosesWithoutACloseFrameAs1006Fin() throws Exception {
        try (ProxyHarness h = proxy()) {
            // Given an upstream that reads until its connection ends
            CompletableFuture<byte[]> upstreamRead = new CompletableFuture<>();
            h.upstream.script(conn -> {
                conn.accept();
                upstreamRead.complete(conn.input().readAllBytes());
            });
            RawSocket client = open(h);

            // When the client closes its TLS connection (close_notify, FIN) with no Close frame
            client.close();

            // Then the upstream's connection is closed, and the session is 1006 client fin
            assertArrayEquals(new byte[0], upstreamRead.get(10, TimeUnit.SECONDS));
            CloseEvent event = h.nextEvent();
            assertEquals(1006, event.code());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertEquals(Cause.FIN, event.cause());
            assertFalse(event.clean());
        }
    }

    @Test
    void shouldRecordTheUpstreamsAnswerToATlsClientsCloseBeforeItsConnectionEnds() throws Exception {
        try (ProxyHarness h = proxy()) {
            // Given an upstream that answers a Close and then closes
            h.upstream.script(conn -> {
                conn.accept();
                WsFrame close = conn.readFrame();
                conn.send(true, CLOSE, close.payload());
            });
            RawSocket client = open(h);

            // When the client sends Close 1000 and reads the answer
            client.write(Frames.masked(true, CLOSE, Frames.closeBody(1000, "")));
            WsFrame answer = client.readFrame();
            assertEquals(1000, answer.closeCode());
            assertTrue(client.peerClosed());
            client.close();

            // Then the session is clean
            CloseEvent event = h.nextEvent();
            assertEquals(1000, event.code());
            assertEquals(Initiator.CLIENT, event.initiator());
            assertTrue(event.clean());
            assertEquals(1000, event.answerCode());
        }
    }
}
