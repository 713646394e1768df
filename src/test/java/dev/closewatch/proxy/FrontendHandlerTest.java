package dev.closewatch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.RequestRejections;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** {@link FrontendHandler} over an {@link EmbeddedChannel}: requests answered without an upstream. */
class FrontendHandlerTest {

    private static EmbeddedChannel channel(String prefix) {
        Observability obs = new Observability(new SimpleMeterRegistry(), new CloseLogger(Level.DEBUG));
        Route api = new Route("api", prefix, null, new UpstreamPool(List.of(UpstreamUri.parse("ws://127.0.0.1:9")),
                1, System::nanoTime), obs.route("api"), obs.sessionListener("api"), CloseCatalog.loadDefault());
        ProxySettings settings = settings(new Routes(List.of(api)), obs);
        return new EmbeddedChannel(new HttpServerCodec(8192, 1024, 8192), new FrontendHandler(settings, false));
    }

    static ProxySettings settings(Routes routes, Observability obs) {
        CloseWatchConfig defaults = CloseWatchConfig.defaults();
        return new ProxySettings(Transport.best(), CloseCatalog.loadDefault(), routes, Duration.ofSeconds(1),
                Duration.ofSeconds(1), defaults.limits(), defaults.keepalive(), defaults.drain(), null,
                new RequestRejections(obs.registry()), ConcurrentHashMap.newKeySet(), new AtomicInteger(),
                new AtomicBoolean(), io.netty.resolver.DefaultAddressResolverGroup.INSTANCE,
                UpstreamConnector.sockets(Transport.best(), io.netty.resolver.DefaultAddressResolverGroup.INSTANCE,
                        Duration.ofSeconds(1)));
    }

    private static String response(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf buf;
        while ((buf = ch.readOutbound()) != null) {
            sb.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return sb.toString();
    }

    @Test
    void shouldAnswer400ToMalformedHttpAndClose() {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        ch.writeInbound(Unpooled.copiedBuffer("NOT HTTP AT ALL\r\n\r\n", StandardCharsets.ISO_8859_1));
        // Then
        String response = response(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertTrue(response.contains("connection: close"), response);
        assertFalse(ch.isActive());
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer431ToAnOversizedHeaderBlock() {
        // Given a 1 KiB header limit
        EmbeddedChannel ch = channel("/");
        // When
        ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        // Then
        assertTrue(response(ch).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer414ToAnOversizedRequestLine() {
        // Given an 8 KiB request-line limit
        EmbeddedChannel ch = channel("/");
        // When
        ch.writeInbound(Unpooled.copiedBuffer("GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n", StandardCharsets.ISO_8859_1));
        // Then
        assertTrue(response(ch).startsWith("HTTP/1.1 414 Request-URI Too Long\r\n"));
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer404WhenNoRouteMatches() {
        // Given a route only for /api
        EmbeddedChannel ch = channel("/api");
        // When
        ch.writeInbound(Unpooled.copiedBuffer("GET /other HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.ISO_8859_1));
        // Then
        String response = response(ch);
        assertTrue(response.startsWith("HTTP/1.1 404 Not Found\r\n"), response);
        assertTrue(response.contains("no route"), response);
        assertFalse(ch.finish());
    }

    @Test
    void shouldRecognizeOnlyWebSocketUpgrades() {
        io.netty.handler.codec.http.HttpHeaders h = new io.netty.handler.codec.http.DefaultHttpHeaders()
                .add("Connection", "keep-alive, Upgrade").add("Upgrade", "WebSocket");
        assertTrue(FrontendHandler.isWebSocketUpgrade(h));
        assertFalse(FrontendHandler.isWebSocketUpgrade(new io.netty.handler.codec.http.DefaultHttpHeaders()
                .add("Connection", "Upgrade").add("Upgrade", "h2c")));
        assertEquals(false, FrontendHandler.isWebSocketUpgrade(new io.netty.handler.codec.http.DefaultHttpHeaders()));
    }
}
