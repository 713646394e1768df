package dev.closewatch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.LimitsConfig;
import dev.closewatch.config.UpstreamUri;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RequestRejections;
import dev.closewatch.testing.ProxyHarness;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * {@link FrontendHandler} over an {@link EmbeddedChannel} set up by
 * {@link ProxyServer#initClientPipeline}, with an {@link EmbeddedChannel} standing in for the
 * upstream connection: requests answered without an upstream, and what reaches the upstream.
 */
class FrontendHandlerTest {

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<EmbeddedChannel> upstreams = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger frontendLog = (Logger) LoggerFactory.getLogger(FrontendHandler.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        frontendLog.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        frontendLog.detachAppender(logs);
        upstreams.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    /** A client channel with a 1 KiB header limit, a route for {@code prefix}, upstreams as EmbeddedChannels. */
    private EmbeddedChannel channel(String prefix) {
        return channel(prefix, new LimitsConfig(null, null, null, 1024, null), Duration.ofSeconds(1));
    }

    /** As {@link #channel(String)}, with these limits and {@code upstream.response_timeout}. */
    private EmbeddedChannel channel(String prefix, LimitsConfig limits, Duration responseTimeout) {
        Observability obs = new Observability(registry, new CloseLogger(Level.DEBUG));
        Route api = new Route("api", prefix, null, new UpstreamPool(List.of(UpstreamUri.parse("ws://127.0.0.1:9")),
                1, System::nanoTime), obs.route("api"), obs.sessionListener("api"), CloseCatalog.loadDefault());
        UpstreamConnector embedded = (client, address, initializer) -> {
            EmbeddedChannel up = new EmbeddedChannel();
            up.pipeline().addLast(initializer);
            upstreams.add(up);
            return up.newSucceededFuture();
        };
        ProxySettings settings = settings(new Routes(List.of(api)), obs, limits, embedded, responseTimeout);
        return new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ProxyServer.initClientPipeline(ch, settings, null);
            }
        });
    }

    static ProxySettings settings(Routes routes, Observability obs) {
        return settings(routes, obs, CloseWatchConfig.defaults().limits(),
                UpstreamConnector.sockets(Transport.best(), new UpstreamResolver(
                        io.netty.resolver.DefaultAddressResolverGroup.INSTANCE, null, System::nanoTime), Duration.ofSeconds(1)));
    }

    static ProxySettings settings(Routes routes, Observability obs, LimitsConfig limits, UpstreamConnector connector) {
        return settings(routes, obs, limits, connector, Duration.ofSeconds(1));
    }

    static ProxySettings settings(Routes routes, Observability obs, LimitsConfig limits, UpstreamConnector connector,
                                  Duration responseTimeout) {
        CloseWatchConfig defaults = CloseWatchConfig.defaults();
        return new ProxySettings(Transport.best(), CloseCatalog.loadDefault(), routes, Duration.ofSeconds(1),
                responseTimeout, limits, defaults.keepalive(), defaults.drain(), null,
                new RequestRejections(obs.registry()), ConcurrentHashMap.newKeySet(), new AtomicInteger(),
                new AtomicBoolean(), io.netty.resolver.DefaultAddressResolverGroup.INSTANCE, connector,
                new dev.closewatch.observe.DrainMeters(obs.registry()));
    }

    private static String drain(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) o;
            sb.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return sb.toString();
    }

    private static void send(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    private double rejected(String reason) {
        Counter c = registry.find(RequestRejections.NAME).tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void shouldAnswer400ToMalformedHttpAndClose() {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, "NOT HTTP AT ALL\r\n\r\n");
        // Then
        String response = drain(ch);
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
        send(ch, "GET / HTTP/1.1\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\n");
        // Then
        assertTrue(drain(ch).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer414ToAnOversizedRequestLine() {
        // Given an 8 KiB request-line limit
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n");
        // Then
        assertTrue(drain(ch).startsWith("HTTP/1.1 414 Request-URI Too Long\r\n"));
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer404WhenNoRouteMatches() {
        // Given a route only for /api
        EmbeddedChannel ch = channel("/api");
        // When
        send(ch, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        // Then
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 404 Not Found\r\n"), response);
        assertTrue(response.contains("no route"), response);
        assertFalse(ch.finish());
    }

    /** RFC 9112 §6.1, §6.3, §2.2, §5.1 and RFC 9110 §8.6: framing that two parsers could read two ways. */
    @ParameterizedTest
    @ValueSource(strings = {
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A : y\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n",
            "GET / HTTP/1.1\r\nHost: x\nX-A: y\r\n\r\n",
            "GET / HTTP/1.1\rHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\rX-A: y\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n",
            "GET / HTTP/3\r\nHost: x\r\n\r\n",
    })
    void shouldAnswer400ToAmbiguousFramingBeforeAnyUpstream(String request) {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, request);
        // Then
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertTrue(response.contains("connection: close\r\n"), response);
        assertFalse(ch.isActive());
        assertEquals(1.0, rejected("malformed"));
        assertTrue(upstreams.isEmpty(), "no upstream connection");
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "4\r\nabcd\r\nzz\r\nmore\r\n0\r\n\r\n",
            "ffffffffffffffffff\r\nabcd\r\n0\r\n\r\n",
            "4\nabcd\n0\n\n",
            "4\r\nabcdXX0\r\n\r\n",
    })
    void shouldCutTheUpstreamWhenARequestBodyFailsToDecode(String body) {
        // Given a chunked request whose head went upstream
        EmbeddedChannel ch = channel("/");
        send(ch, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        EmbeddedChannel up = upstreams.get(0);
        String head = drain(up);
        assertTrue(head.startsWith("POST /x HTTP/1.1\r\n"), head);
        // When the body fails to decode
        send(ch, body);
        // Then the upstream sees no terminator, only its connection cut; the client gets 400
        String rest = drain(up);
        assertFalse(rest.contains("0\r\n\r\n"), rest);
        assertTrue("4\r\nabcd\r\n".startsWith(rest), rest);
        assertFalse(up.isActive());
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertTrue(response.contains("invalid body"), response);
        assertFalse(ch.isActive());
        assertEquals(1.0, rejected("malformed"));
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n",
    })
    void shouldAnswer400WithoutExactlyOneHost(String request) {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, request);
        // Then (RFC 9112 §3.2)
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertEquals(1.0, rejected("invalid_host"));
        assertTrue(upstreams.isEmpty());
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer400ToAnUpgradeOnHttp10() {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, "GET /ws HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        // Then
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertEquals(1.0, rejected("invalid_upgrade"));
        assertTrue(upstreams.isEmpty());
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n"})
    void shouldAnswer400ToAnUpgradeWithABody(String framing) {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + framing + "\r\nhello");
        // Then
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertEquals(1.0, rejected("invalid_upgrade"));
        assertTrue(upstreams.isEmpty());
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "GET / HTTP/0.9\r\nHost: x\r\n\r\n"})
    void shouldAnswer505OnceToAnotherMajorVersion(String request) {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, request);
        // Then: the HTTP/2 preface is one rejection, not two
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 505 HTTP Version Not Supported\r\n"), response);
        assertEquals(1.0, rejected("version_not_supported"));
        assertEquals(0.0, rejected("malformed"));
        assertTrue(upstreams.isEmpty());
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "Upgrade: websockHTTP/1.0ection: Upgrade\r\n",
            "Connection: Upgrade\r\n",
            "Upgrade: websocket\r\n",
            "Upgrade: h2c\r\nConnection: Upgrade\r\n",
            "Upgrade: websHTTP/1.1x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
            "Upgrade: websocket, h2c\r\nConnection: Upgrade\r\n",
    })
    void shouldAnswer502ToA101ThatIsNoWebSocketHandshakeResponse(String headers) {
        // Given an upgrade request that went upstream
        EmbeddedChannel ch = channel("/");
        send(ch, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        EmbeddedChannel up = upstreams.get(0);
        drain(up);
        // When the upstream answers 101 without Upgrade: websocket and Connection: Upgrade (RFC 6455 §4.2.2)
        up.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 101 Switching Protocols\r\n" + headers
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\u0081\u0005Hello", StandardCharsets.ISO_8859_1));
        // Then no session opens and the client gets 502, never the 101 or the frame behind it
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), response);
        assertFalse(response.contains("Hello"), response);
        Counter failures = registry.find("closewatch.upstream.connect.failures").tag("cause", "invalid_response").counter();
        assertEquals(1.0, failures == null ? 0 : failures.count());
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTtP/1.1", "http/1.1", "Http/1.0"})
    void shouldAnswer400ToAVersionNotWrittenInCapitals(String version) {
        // Given
        EmbeddedChannel ch = channel("/");
        // When the HTTP-name is not "HTTP" exactly (RFC 9112 §2.3: case-sensitive)
        send(ch, "GET /x " + version + "\r\nHost: x\r\n\r\n");
        // Then it is refused before any upstream, not normalised and forwarded
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertEquals(1.0, rejected("malformed"));
        assertTrue(upstreams.isEmpty());
        assertFalse(ch.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "HTTP/1.1 200 O\u0016K\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 O\u0000K\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 10 Odd\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 700 Odd\r\nContent-Length: 0\r\n\r\n",
            "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    })
    void shouldAnswer502ToAStatusLineTheClientCouldNotParse(String statusLine) {
        // Given a request that went upstream
        EmbeddedChannel ch = channel("/");
        send(ch, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
        EmbeddedChannel up = upstreams.get(0);
        drain(up);
        // When the upstream answers with a status line Netty's lenient parser accepts
        up.writeInbound(Unpooled.copiedBuffer(statusLine, StandardCharsets.ISO_8859_1));
        // Then the client gets closewatch's 502, never the upstream's line, counted as invalid_response
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), response);
        assertFalse(response.contains("Odd") || response.contains("O\u0016K") || response.contains("O\u0000K"), response);
        Counter failures = registry.find("closewatch.upstream.connect.failures").tag("cause", "invalid_response").counter();
        assertEquals(1.0, failures == null ? 0 : failures.count());
        assertFalse(ch.finish());
    }

    @Test
    void shouldForwardAHigherMinorVersionAsHttp11() {
        // Given
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, "GET /x HTTP/1.7\r\nHost: x\r\n\r\n");
        // Then (RFC 9110 §2.5)
        String forwarded = drain(upstreams.get(0));
        assertTrue(forwarded.startsWith("GET /x HTTP/1.1\r\n"), forwarded);
        assertFalse(ch.finish());
    }

    @Test
    void shouldNotParseARequestPipelinedBehindAnUpgrade() {
        // Given an upgrade request with a request pipelined behind it in one write
        EmbeddedChannel ch = channel("/");
        // When
        send(ch, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        // Then only the upgrade request reaches the upstream, and no more is read until it answers
        String forwarded = drain(upstreams.get(0));
        assertTrue(forwarded.startsWith("GET /ws HTTP/1.1\r\n"), forwarded);
        assertFalse(forwarded.contains("smuggled"), forwarded);
        assertFalse(ch.config().isAutoRead());
        assertEquals(1, upstreams.size());
        // When the upstream refuses the upgrade
        upstreams.get(0).writeInbound(Unpooled.copiedBuffer("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno",
                StandardCharsets.ISO_8859_1));
        // Then the refusal is relayed with connection: close, the pipelined bytes are dropped, and it closes
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response);
        assertTrue(response.contains("connection: close\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\nno"), response);
        assertFalse(ch.isActive());
        assertEquals("", drain(upstreams.get(0)));
        assertFalse(ch.finish());
    }

    @Test
    void shouldAnswer400WhenTooMuchIsSentBeforeTheUpgradeIsAnswered() {
        // Given
        EmbeddedChannel ch = channel("/");
        // When more than MAX_EARLY_BYTES follow the upgrade request before the upstream answers
        send(ch, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                + "x".repeat(FrontendHandler.MAX_EARLY_BYTES + 1));
        // Then the upgrade is refused and its upstream connection cut before anything was flushed to it
        String forwarded = drain(upstreams.get(0));
        assertEquals("", forwarded);
        assertFalse(upstreams.get(0).isActive());
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertEquals(1.0, rejected("invalid_upgrade"));
        assertFalse(ch.finish());
    }

    @Test
    void shouldEscapeRequestTextInTheRejectionLine() {
        // Given a route only for /api
        EmbeddedChannel ch = channel("/api");
        // When the request target carries ESC sequences
        send(ch, "GET /x\u001b[1A\u001b[2K HTTP/1.1\r\nHost: x\r\n\r\n");
        // Then the key-value line carries them escaped, with the event and the connection id
        assertTrue(drain(ch).startsWith("HTTP/1.1 404 Not Found\r\n"));
        ILoggingEvent line = logs.list.get(0);
        assertEquals("http.request.rejected", ProxyHarness.kv(line, "event"));
        assertEquals(ch.id().asShortText(), ProxyHarness.kv(line, "connection"));
        assertEquals(404, ProxyHarness.kv(line, "status"));
        assertEquals("no_route", ProxyHarness.kv(line, "reason"));
        assertEquals("/x\\u001b[1A\\u001b[2K", ProxyHarness.kv(line, "target"));
        assertEquals("rejected request", line.getFormattedMessage());
        assertFalse(ch.finish());
    }

    @Test
    void shouldEscapeHeaderTextInTheRejectionLine() {
        // Given
        EmbeddedChannel ch = channel("/");
        // When a header name carries ESC and a bare CR
        send(ch, "GET / HTTP/1.1\r\nHost: x\r\nX\u001b[2K\rY: 1\r\n\r\n");
        // Then no line has a raw control character
        assertTrue(drain(ch).startsWith("HTTP/1.1 400 Bad Request\r\n"));
        ILoggingEvent line = logs.list.get(0);
        assertEquals("http.request.rejected", ProxyHarness.kv(line, "event"));
        for (var pair : line.getKeyValuePairs()) {
            String value = String.valueOf(pair.value);
            assertTrue(value.chars().noneMatch(c -> c < 0x20 || c == 0x7f), pair.key + "=" + value);
        }
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

    @ParameterizedTest
    @ValueSource(ints = {2, 20})
    void shouldAnswer504AtTheResponseTimeoutWhicheverTimeoutWasArmedBefore(int handshakeSeconds) {
        // Given handshake_timeout before (2 s) or after (20 s) response_timeout (5 s): the one timer's
        // wake-up is scheduled for the request head first, then re-armed for the response
        EmbeddedChannel ch = channel("/", new LimitsConfig(null, Duration.ofSeconds(handshakeSeconds), null, 1024, null),
                Duration.ofSeconds(5));
        // When a request is forwarded and the upstream stays silent for just under 5 s
        send(ch, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(drain(upstreams.get(0)).startsWith("GET /a HTTP/1.1\r\n"));
        for (int i = 0; i < 49; i++) {
            ch.advanceTimeBy(100, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
        }
        // Then nothing was answered yet: not 408 at the request head's timeout, not 504 early
        assertEquals("", drain(ch));
        assertTrue(ch.isActive());
        // When the 5 s pass
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        // Then 504, once
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 504 Gateway Timeout\r\n"), response);
        assertEquals(1.0, registry.get("closewatch.upstream.connect.failures").tag("cause", "response_timeout").counter().count());
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldAnswer408AtTheHandshakeTimeoutAfterAnEarlierRequestWasAnswered() {
        // Given a keep-alive connection whose first request was answered (the timer was armed for
        // the head, the response and the keep-alive before)
        EmbeddedChannel ch = channel("/", new LimitsConfig(null, Duration.ofSeconds(3), null, 1024, null, Duration.ofSeconds(60)),
                Duration.ofSeconds(30));
        send(ch, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        drain(upstreams.get(0));
        upstreams.get(0).writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        assertTrue(drain(ch).startsWith("HTTP/1.1 200 OK\r\n"));
        // When the next request's head starts and stays incomplete for just under 3 s
        send(ch, "GET /b HTTP/1.1\r\n");
        ch.advanceTimeBy(2900, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertEquals("", drain(ch));
        // Then 408 when the 3 s pass
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        String response = drain(ch);
        assertTrue(response.startsWith("HTTP/1.1 408 Request Timeout\r\n"), response);
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldKeepReadingWhileAnUpgradeRequestIsAnswered() {
        // Given an upgrade request alone
        EmbeddedChannel ch = channel("/");
        // When it is forwarded
        send(ch, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        // Then reading was never turned off for the connect (no epoll_ctl pair per handshake)
        assertTrue(drain(upstreams.get(0)).startsWith("GET /ws HTTP/1.1\r\n"));
        assertTrue(ch.config().isAutoRead());
        // When the client sends a frame before the 101: reading stops until the answer
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, (byte) 0x80, 1, 2, 3, 4}));
        assertFalse(ch.config().isAutoRead());
        assertEquals("", drain(upstreams.get(0)));
        // When the upstream answers 101
        upstreams.get(0).writeInbound(Unpooled.copiedBuffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", StandardCharsets.ISO_8859_1));
        // Then the 101 reaches the client, the early frame the upstream, and reading is on again
        assertTrue(drain(ch).startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
        ByteBuf early = upstreams.get(0).readOutbound();
        assertEquals(6, early.readableBytes());
        assertEquals((byte) 0x81, early.getByte(0));
        early.release();
        assertTrue(ch.config().isAutoRead());
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldWriteTheUpgradeRequestAndThe101AsOneBufferEach() {
        // Given an upgrade request
        EmbeddedChannel ch = channel("/");
        send(ch, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        // Then the upstream gets its head as one buffer and nothing behind it (a send(2), not a writev(2))
        EmbeddedChannel up = upstreams.get(0);
        assertEquals(1, up.outboundMessages().size());
        assertTrue(drain(up).endsWith("\r\n\r\n"));
        // When the upstream answers 101
        String head = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                + "connection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        up.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
        // Then the client gets the 101 as one buffer, byte for byte
        assertEquals(1, ch.outboundMessages().size());
        assertEquals(head, drain(ch));
        ch.finishAndReleaseAll();
    }
}
