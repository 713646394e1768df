package dev.closewatch.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.Category;
import dev.closewatch.cli.CloseWatchApp;
import dev.closewatch.testing.Accounting;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.demo.EchoUpstream;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Third-party interop, end to end over real sockets on 127.0.0.1: WebSocket peers from the Node.js
 * {@code ws} package (and the JDK's own client) talk through a real in-process closewatch, and
 * each test checks the peers' view, the {@link CloseEvent} and the {@code closewatch.closes}
 * counter.
 *
 * <p>Needs node and {@code npm ci --prefix src/test/node}; skipped without them, failed without
 * them when {@code CI=true} (see {@link NodePeer#requireNode()}).
 *
 * <p>Byte counts are wire bytes after the 101, frame headers included (RFC 6455 §5.2): a
 * client frame has a 4-byte masking key, a server frame none; payloads up to 125 bytes have a
 * 2-byte header, payloads over 65535 bytes a 10-byte one. {@code ws} answers a Close with the same
 * code and reason (an empty Close with an empty one); the JDK client sends each message as one
 * frame.
 */
class NodeWsInteropTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String ROUTE = "default";

    /** The Node.js {@code ws} upstream, shared by the class, and the closewatch in front of it. */
    private static NodePeer nodeServer;
    private static int nodeServerPort;
    private static CloseWatchApp nodeApp;
    private static final Queue<CloseEvent> nodeEvents = new ConcurrentLinkedQueue<>();

    /** closewatch's embedded Netty echo upstream and the closewatch in front of it. */
    private static EchoUpstream nettyUpstream;
    private static CloseWatchApp nettyApp;
    private static final Queue<CloseEvent> nettyEvents = new ConcurrentLinkedQueue<>();

    private static final List<Accounting> accounting = new ArrayList<>();

    private final List<NodePeer> clients = new ArrayList<>();

    @BeforeAll
    static void startPeersAndProxies() throws Exception {
        if (!NodePeer.nodeAvailable()) {
            return; // every test then skips (or fails on CI) in requireNodeAndForgetEarlierEvents
        }
        nodeServer = NodePeer.start("ws-server.js");
        String listening = nodeServer.awaitLine(l -> l.startsWith("LISTENING "), TIMEOUT);
        nodeServerPort = Integer.parseInt(listening.substring("LISTENING ".length()));
        nodeApp = startProxy(nodeServerPort, nodeEvents);

        nettyUpstream = EchoUpstream.start(0);
        nettyApp = startProxy(nettyUpstream.address().getPort(), nettyEvents);
    }

    private static CloseWatchApp startProxy(int upstreamPort, Queue<CloseEvent> events) throws Exception {
        CloseWatchConfig config = CloseWatchConfig.defaults().withListen("127.0.0.1:0").withAdmin("127.0.0.1:0")
                .withUpstream("ws://127.0.0.1:" + upstreamPort);
        CloseWatchApp app = CloseWatchApp.start(config);
        accounting.add(Accounting.attach(app));
        app.observability().addCloseConsumer(events::add);
        return app;
    }

    @AfterAll
    static void stopPeersAndProxies() {
        try {
            // The accounting invariants (see Accounting) hold for both proxies after every session.
            accounting.forEach(a -> a.assertBalanced(Duration.ofSeconds(10)));
        } finally {
            stopAll();
        }
    }

    private static void stopAll() {
        if (nettyApp != null) {
            nettyApp.close();
        }
        if (nettyUpstream != null) {
            nettyUpstream.close();
        }
        if (nodeApp != null) {
            nodeApp.close();
        }
        if (nodeServer != null) {
            nodeServer.stop();
        }
    }

    @BeforeEach
    void requireNodeAndForgetEarlierEvents() {
        NodePeer.requireNode();
        // Every passing test has waited for its own session's event; this only keeps a failed
        // test's late event out of the next test.
        nodeEvents.clear();
        nettyEvents.clear();
    }

    @AfterEach
    void stopClients() {
        clients.forEach(NodePeer::stop);
    }

    /** (a) 20 binary messages of 70000 bytes echoed intact, then a normal close by the client. */
    @Test
    void binaryEchoThenClientNormalClosure() {
        int serverMark = nodeServer.mark();
        CloseCounter counter = CloseCounter.of(nodeApp, "1000", Category.NORMAL, Initiator.CLIENT);

        NodePeer client = client(nodeApp, "echo", "20", "70000");
        String received = client.awaitLine(l -> l.startsWith("RECEIVED "), TIMEOUT);
        String ok = client.awaitLine(l -> l.startsWith("ECHO_OK "), TIMEOUT);
        assertTrue(ok.matches("ECHO_OK 20 [0-9a-f]{64}"), ok);
        String sentSha256 = ok.substring("ECHO_OK 20 ".length());
        assertEquals("RECEIVED 20 " + sentSha256, received, "SHA-256 of the echoes vs. of what was sent");
        assertClientEnded(client, List.of("OPEN", received, ok, "CLOSED 1000 "));
        assertServerSaw(serverMark, "CLOSED 1000 ");

        CloseEvent event = awaitOneEvent(nodeEvents);
        // Client: 20 × (70000 + 14) + Close 1000 (6 + 2). Upstream: 20 × (70000 + 10) + Close 1000 (2 + 2).
        assertEvent(event, nodeServerPort, 1000, "1000", Category.NORMAL, "", Initiator.CLIENT, true,
                Cause.CLOSE_HANDSHAKE, 20 * 70_014 + 8, 20 * 70_010 + 4);
        assertTrue(event.bytesClientToUpstream() >= 20 * 70_000L);
        counter.assertIncrementedOnce();
    }

    /** (b) A private-use code with a reason, from the client, reaches the server intact. */
    @Test
    void clientPrivateCodeWithReason() {
        int serverMark = nodeServer.mark();
        CloseCounter counter = CloseCounter.of(nodeApp, "4xxx", Category.PRIVATE, Initiator.CLIENT);

        NodePeer client = client(nodeApp, "close", "4321", "bye");
        assertClientEnded(client, List.of("OPEN", "CLOSED 4321 bye"));
        assertServerSaw(serverMark, "CLOSED 4321 bye");

        // Client: Close 4321 "bye" (6 + 5). Upstream: the same Close answered (2 + 5).
        assertEvent(awaitOneEvent(nodeEvents), nodeServerPort, 4321, "4xxx", Category.PRIVATE, "bye",
                Initiator.CLIENT, true, Cause.CLOSE_HANDSHAKE, 11, 7);
        counter.assertIncrementedOnce();
    }

    /** (c) The upstream closes with 1011 on request; the client gets it and answers. */
    @Test
    void upstreamInternalError() {
        int serverMark = nodeServer.mark();
        CloseCounter counter = CloseCounter.of(nodeApp, "1011", Category.INTERNAL_ERROR, Initiator.UPSTREAM);

        NodePeer client = client(nodeApp, "send", "close 1011 boom");
        assertClientEnded(client, List.of("OPEN", "CLOSED 1011 boom"));
        assertServerSaw(serverMark, "CLOSED 1011 boom");

        // Client: text "close 1011 boom" (6 + 15) + answering Close (6 + 6). Upstream: Close 1011 "boom" (2 + 6).
        assertEvent(awaitOneEvent(nodeEvents), nodeServerPort, 1011, "1011", Category.INTERNAL_ERROR, "boom",
                Initiator.UPSTREAM, true, Cause.CLOSE_HANDSHAKE, 21 + 12, 8);
        counter.assertIncrementedOnce();
    }

    /** (d) The client drops TCP with no Close frame: 1006, blamed on the client. */
    @Test
    void clientTerminates() {
        int serverMark = nodeServer.mark();
        CloseCounter counter = CloseCounter.of(nodeApp, "1006", Category.ABNORMAL, Initiator.CLIENT);

        NodePeer client = client(nodeApp, "terminate");
        assertClientEnded(client, List.of("OPEN", "CLOSED 1006 "));
        assertServerSaw(serverMark, "CLOSED 1006 ");

        assertEvent(awaitOneEvent(nodeEvents), nodeServerPort, 1006, "1006", Category.ABNORMAL, "",
                Initiator.CLIENT, false, Cause.FIN, 0, 0);
        counter.assertIncrementedOnce();
    }

    /** (e) The upstream drops TCP with no Close frame: 1006, blamed on the upstream. */
    @Test
    void upstreamTerminates() {
        int serverMark = nodeServer.mark();
        CloseCounter counter = CloseCounter.of(nodeApp, "1006", Category.ABNORMAL, Initiator.UPSTREAM);

        NodePeer client = client(nodeApp, "send", "terminate");
        assertClientEnded(client, List.of("OPEN", "CLOSED 1006 "));
        assertServerSaw(serverMark, "CLOSED 1006 ");

        // Client: text "terminate" (6 + 9).
        assertEvent(awaitOneEvent(nodeEvents), nodeServerPort, 1006, "1006", Category.ABNORMAL, "",
                Initiator.UPSTREAM, false, Cause.FIN, 15, 0);
        counter.assertIncrementedOnce();
    }

    /** (f) The JDK's WebSocket client through the proxy to the {@code ws} server. */
    @Test
    void jdkClientToNodeServer() throws Exception {
        int serverMark = nodeServer.mark();
        CloseCounter counter = CloseCounter.of(nodeApp, "1000", Category.NORMAL, Initiator.CLIENT);

        CompletableFuture<String> echo = new CompletableFuture<>();
        CompletableFuture<String> closed = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    echo.complete(text.toString());
                }
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                closed.complete(statusCode + " " + reason);
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                echo.completeExceptionally(error);
                closed.completeExceptionally(error);
            }
        };
        String message = "hello from the JDK";
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(proxyUri(nodeApp), listener).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        ws.sendText(message, true).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(message, echo.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals("1000 done", closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        assertServerSaw(serverMark, "CLOSED 1000 done");

        // Client: text (6 + 18) + Close 1000 "done" (6 + 6). Upstream: echo (2 + 18) + answering Close (2 + 6).
        assertEvent(awaitOneEvent(nodeEvents), nodeServerPort, 1000, "1000", Category.NORMAL, "done",
                Initiator.CLIENT, true, Cause.CLOSE_HANDSHAKE, 24 + 12, 20 + 8);
        counter.assertIncrementedOnce();
    }

    /** (g) The {@code ws} client against closewatch's Netty echo upstream sending an empty Close: 1005. */
    @Test
    void nodeClientToNettyUpstreamEmptyClose() {
        CloseCounter counter = CloseCounter.of(nettyApp, "1005", Category.NO_STATUS, Initiator.UPSTREAM);

        NodePeer client = client(nettyApp, "send", "close-empty");
        assertClientEnded(client, List.of("OPEN", "CLOSED 1005 "));

        // Client: text "close-empty" (6 + 11) + empty Close answer (6). Upstream: empty Close (2).
        assertEvent(awaitOneEvent(nettyEvents), nettyUpstream.address().getPort(), 1005, "1005", Category.NO_STATUS,
                "", Initiator.UPSTREAM, true, Cause.CLOSE_HANDSHAKE, 17 + 6, 2);
        counter.assertIncrementedOnce();
    }

    private NodePeer client(CloseWatchApp app, String mode, String... args) {
        List<String> argv = new ArrayList<>();
        argv.add(proxyUri(app).toString());
        argv.add(mode);
        argv.addAll(List.of(args));
        NodePeer client = NodePeer.start("ws-client.js", argv.toArray(String[]::new));
        clients.add(client);
        return client;
    }

    private static URI proxyUri(CloseWatchApp app) {
        return URI.create("ws://127.0.0.1:" + app.proxy().address().getPort() + "/interop");
    }

    /** Waits for the client's {@code CLOSED} line and exit, then checks its whole output and exit code 0. */
    private static void assertClientEnded(NodePeer client, List<String> expectedLines) {
        client.awaitLine(l -> l.startsWith("CLOSED ") || l.startsWith("ERROR ") || l.startsWith("ECHO_MISMATCH "),
                TIMEOUT);
        int exit = client.awaitExit(TIMEOUT);
        assertEquals(expectedLines, client.lines(), client::toString);
        assertEquals(0, exit, client::toString);
    }

    /** Waits for the node server's next {@code CLOSED} line after {@code mark}; it must be the only line. */
    private static void assertServerSaw(int mark, String closedLine) {
        Predicate<String> closed = l -> l.startsWith("CLOSED ");
        nodeServer.awaitLineAfter(mark, closed, TIMEOUT);
        List<String> lines = nodeServer.lines();
        assertEquals(List.of(closedLine), lines.subList(mark, lines.size()), nodeServer::toString);
    }

    /** Waits for the session's close event: it comes once both TCP connections are gone. */
    private static CloseEvent awaitOneEvent(Queue<CloseEvent> events) {
        await("a close event").atMost(TIMEOUT).pollInterval(Duration.ofMillis(10)).until(() -> !events.isEmpty());
        assertEquals(1, events.size(), () -> "close events: " + events);
        return events.peek();
    }

    private static void assertEvent(CloseEvent e, int upstreamPort, int code, String label, Category category,
                                    String reason, Initiator initiator, boolean clean, Cause cause,
                                    long bytesClientToUpstream, long bytesUpstreamToClient) {
        boolean closeFrameSeen = code != 1006;
        assertAll(e.toString(),
                () -> assertEquals(ROUTE, e.route(), "route"),
                () -> assertTrue(e.client().startsWith("127.0.0.1:"), "client " + e.client()),
                () -> assertEquals("127.0.0.1:" + upstreamPort, e.upstream(), "upstream"),
                () -> assertEquals(code, e.code(), "code"),
                () -> assertEquals(label, e.classification().label(), "classification label"),
                () -> assertEquals(category, e.classification().category(), "category"),
                () -> assertEquals(reason, e.reason(), "reason"),
                () -> assertEquals(initiator, e.initiator(), "initiator"),
                () -> assertEquals(clean, e.clean(), "clean"),
                () -> assertEquals(closeFrameSeen, e.closeFrameSeen(), "closeFrameSeen"),
                () -> assertEquals(cause, e.cause(), "cause"),
                () -> {
                    if (clean) {
                        assertNotNull(e.closeHandshakeDuration(), "closeHandshakeDuration");
                    } else {
                        assertNull(e.closeHandshakeDuration(), "closeHandshakeDuration");
                    }
                },
                () -> assertEquals(bytesClientToUpstream, e.bytesClientToUpstream(), "bytesClientToUpstream"),
                () -> assertEquals(bytesUpstreamToClient, e.bytesUpstreamToClient(), "bytesUpstreamToClient"));
    }

    /** The {@code closewatch.closes} counter of one (code, category, initiator), read before and after. */
    private record CloseCounter(CloseWatchApp app, String code, Category category, Initiator initiator,
                                double before, double totalBefore) {

        static CloseCounter of(CloseWatchApp app, String code, Category category, Initiator initiator) {
            return new CloseCounter(app, code, category, initiator, count(app, code, category, initiator), total(app));
        }

        /** The counter went up by exactly 1, and no other {@code closewatch.closes} counter moved. */
        void assertIncrementedOnce() {
            assertEquals(before + 1, count(app, code, category, initiator),
                    () -> "closewatch.closes{code=" + code + ",category=" + category.label() + ",initiator="
                            + initiator.label() + "}");
            assertEquals(totalBefore + 1, total(app), "sum of all closewatch.closes counters");
        }

        private static double count(CloseWatchApp app, String code, Category category, Initiator initiator) {
            Counter c = app.registry().find(MeterNames.CLOSES)
                    .tag(MeterNames.TAG_ROUTE, ROUTE)
                    .tag(MeterNames.TAG_CODE, code)
                    .tag(MeterNames.TAG_CATEGORY, category.label())
                    .tag(MeterNames.TAG_INITIATOR, initiator.label())
                    .counter();
            return c == null ? 0 : c.count();
        }

        private static double total(CloseWatchApp app) {
            return app.registry().find(MeterNames.CLOSES).counters().stream().mapToDouble(Counter::count).sum();
        }
    }
}
