package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.TEXT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.config.DrainConfig;
import dev.closewatch.observe.DrainMeters;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.WsFrame;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The graceful drain over loopback: {@code /readyz} 503 at once while the listener still accepts
 * for {@code drain.unready_delay}, Closes spread over {@code drain.spread}, and the drained/cut
 * counters and phase gauge.
 */
class DrainSpreadTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static int readyz(ProxyHarness h) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.adminPort() + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static double phase(ProxyHarness h, DrainMeters.Phase phase) {
        return h.app.registry().get(DrainMeters.DRAIN_PHASE).tag(DrainMeters.TAG_PHASE, phase.label()).gauge().value();
    }

    /** Reads frames until the Close, answers it, and returns when (System.nanoTime) the Close arrived. */
    private static long answerClose(RawClient client) throws Exception {
        while (true) {
            WsFrame f = client.readFrame();
            if (f.opcode() == CLOSE) {
                long at = System.nanoTime();
                assertEquals(1012, f.closeCode());
                client.send(true, CLOSE, f.payload());
                assertTrue(client.peerClosed(), "closed once both endpoints answered");
                return at;
            }
        }
    }

    @Test
    void shouldSpreadTheClosesEvenlyOverDrainSpread() throws Exception {
        // Given 10 open sessions and drain.spread 3s
        int n = 10;
        Duration spread = Duration.ofSeconds(3);
        int k = 3;
        ExecutorService readers = Executors.newFixedThreadPool(n);
        try (ProxyHarness h = ProxyHarness.start(c -> c.withDrain(new DrainConfig(Duration.ZERO, spread,
                Duration.ofSeconds(5), null, null, null)))) {
            List<RawClient> clients = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                clients.add(RawClient.open(h.port(), "/"));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == n);
            List<Future<Long>> closes = new ArrayList<>();
            for (RawClient c : clients) {
                closes.add(readers.submit(() -> answerClose(c)));
            }
            // When the proxy drains
            long start = System.nanoTime();
            h.app.proxy().drain();
            List<Long> at = new ArrayList<>();
            for (Future<Long> f : closes) {
                at.add(f.get(20, TimeUnit.SECONDS) - start);
            }
            ProxyServer.DrainResult result = h.app.proxy().awaitDrain();
            // Then no window of spread/k holds more than ceil(n/k) + 1 Closes (all at once would put 10 in one)
            Collections.sort(at);
            long window = spread.toNanos() / k;
            int bound = (n + k - 1) / k + 1;
            for (int i = 0; i < n; i++) {
                int inWindow = 0;
                for (int j = i; j < n && at.get(j) < at.get(i) + window; j++) {
                    inWindow++;
                }
                assertTrue(inWindow <= bound, inWindow + " Closes within " + window / 1_000_000 + " ms from "
                        + at.get(i) / 1_000_000 + " ms (expected: <= " + bound + "); all at (ms): "
                        + at.stream().map(t -> t / 1_000_000).toList());
            }
            // and every session was drained, none cut
            assertEquals(new ProxyServer.DrainResult(n, 0), result);
            assertEquals(n, h.count(DrainMeters.DRAIN_SESSIONS, DrainMeters.TAG_RESULT, "drained"));
            assertEquals(0, h.count(DrainMeters.DRAIN_SESSIONS, DrainMeters.TAG_RESULT, "cut"));
            assertEquals(1, phase(h, DrainMeters.Phase.DONE));
            for (int i = 0; i < n; i++) {
                CloseEvent e = h.nextEvent();
                assertEquals(1012, e.code());
                assertEquals(Initiator.PROXY, e.initiator());
                assertEquals(Cause.DRAIN, e.cause());
                assertTrue(e.clean());
            }
            for (RawClient c : clients) {
                c.close();
            }
        } finally {
            readers.shutdownNow();
        }
    }

    @Test
    void shouldTurnUnreadyAtOnceAndKeepAcceptingDuringTheUnreadyDelay() throws Exception {
        // Given an open session, drain.unready_delay 3s
        Duration unready = Duration.ofSeconds(3);
        try (ProxyHarness h = ProxyHarness.start(c -> c.withDrain(new DrainConfig(unready, Duration.ZERO,
                Duration.ofSeconds(5), null, null, null)));
             RawClient before = RawClient.open(h.port(), "/")) {
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == 1);
            assertEquals(200, readyz(h));
            assertEquals(1, phase(h, DrainMeters.Phase.SERVING));
            // When the drain starts
            long start = System.nanoTime();
            h.app.proxy().drain();
            // Then /readyz answers 503 at once
            assertEquals(503, readyz(h));
            assertEquals(1, phase(h, DrainMeters.Phase.UNREADY));
            assertEquals(0, phase(h, DrainMeters.Phase.SERVING));
            // and a new client is still accepted and relayed while the delay runs
            try (RawClient during = RawClient.open(h.port(), "/")) {
                assertEquals(101, during.response().status());
                byte[] hi = "hi".getBytes(StandardCharsets.UTF_8);
                during.send(true, TEXT, hi);
                assertArrayEquals(hi, during.readFrame().payload());
                assertTrue(System.nanoTime() - start < unready.toNanos(), "the test was too slow to prove anything");
                // and both sessions, the one opened during the delay included, get their Close after it
                long closedBefore = answerClose(before);
                long closedDuring = answerClose(during);
                assertTrue(closedBefore - start >= unready.toNanos(), "Close before the unready delay ended");
                assertTrue(closedDuring - start >= unready.toNanos(), "Close before the unready delay ended");
            }
            // and the listener is closed by then: a new connection is refused
            assertThrows(ConnectException.class, () -> RawClient.connect(h.port()));
            assertEquals(new ProxyServer.DrainResult(2, 0), h.app.proxy().awaitDrain());
            assertEquals(503, readyz(h));
        }
    }

    @Test
    void shouldCutSessionsThatDoNotAnswerWithinDrainTimeout() throws Exception {
        // Given one session whose client will answer the drain's Close and one whose client will not
        try (ProxyHarness h = ProxyHarness.start(c -> c.withDrain(new DrainConfig(Duration.ZERO, Duration.ZERO,
                Duration.ofMillis(300), null, null, null)));
             RawClient answers = RawClient.open(h.port(), "/");
             RawClient silent = RawClient.open(h.port(), "/")) {
            await().atMost(Duration.ofSeconds(5)).until(() -> h.app.proxy().openSessions() == 2);
            // When the proxy drains
            ProxyServer.DrainResult[] result = new ProxyServer.DrainResult[1];
            Thread drainer = new Thread(() -> {
                try {
                    result[0] = h.app.proxy().drainAndAwait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            drainer.start();
            answerClose(answers);
            assertEquals(1012, silent.readFrame().closeCode());
            // Then the silent one is cut at drain.timeout
            assertTrue(silent.peerClosed());
            drainer.join(10_000);
            assertFalse(drainer.isAlive());
            assertEquals(new ProxyServer.DrainResult(1, 1), result[0]);
            assertEquals(1, h.count(DrainMeters.DRAIN_SESSIONS, DrainMeters.TAG_RESULT, "drained"));
            assertEquals(1, h.count(DrainMeters.DRAIN_SESSIONS, DrainMeters.TAG_RESULT, "cut"));
            List<CloseEvent> events = List.of(h.nextEvent(), h.nextEvent());
            assertEquals(1, events.stream().filter(CloseEvent::clean).count());
            assertTrue(events.stream().allMatch(e -> e.code() == 1012 && e.cause() == Cause.DRAIN));
        }
    }
}
