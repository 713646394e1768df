package dev.closewatch.diagnose;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A lifetime signature, end to end on 127.0.0.1: between closewatch and the upstream sits a TCP
 * relay that cuts every connection 3 s after it opened, however busy (as a Google Cloud load
 * balancer's backend-service timeout does to WebSockets). Clients send a frame every 200 ms, so
 * the sessions are never idle: closewatch reports one 3 s lifetime signature on the upstream leg
 * and no idle signature.
 */
class LifetimeSignatureTest {

    private static final int SESSIONS = 5;
    private static final Duration LIFETIME = Duration.ofSeconds(3);

    @Test
    void shouldReportALifetimeCapOnTheUpstreamLegAndNoIdleTimeout() throws Exception {
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger(SignatureDetector.LOGGER);
        lines.start();
        log.addAppender(lines);
        // Given closewatch (min_count 5) whose upstream is reached through a relay cutting at 3 s
        try (AgeCappedRelay relay = new AgeCappedRelay(LIFETIME);
             ProxyHarness h = ProxyHarness.start(c -> c.withUpstream("ws://127.0.0.1:" + relay.port())
                     .withDiagnosis(new DiagnosisConfig(Duration.ofMinutes(1), SESSIONS, 0.5, null, null)))) {
            relay.target(h.upstream.port());
            h.upstream.script(conn -> {
                conn.accept();
                conn.readToEnd();
            });
            ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
            List<RawClient> clients = new ArrayList<>();
            try {
                // When 5 clients open sessions and each sends a text frame every 200 ms
                for (int i = 0; i < SESSIONS; i++) {
                    RawClient c = RawClient.open(h.port(), "/chat");
                    assertEquals(101, c.response().status());
                    clients.add(c);
                }
                sender.scheduleAtFixedRate(() -> {
                    for (RawClient c : clients) {
                        try {
                            c.send(true, 0x1, "tick".getBytes(StandardCharsets.UTF_8));
                        } catch (IOException gone) {
                            // the relay cut it: closewatch closed the client too
                        }
                    }
                }, 0, 200, TimeUnit.MILLISECONDS);

                // Then every session ends in a 1006 from the upstream side at about 3 s, never idle for long
                for (int i = 0; i < SESSIONS; i++) {
                    CloseEvent e = h.nextEvent();
                    assertEquals(1006, e.code(), e.toString());
                    assertEquals(Initiator.UPSTREAM, e.initiator(), e.toString());
                    assertTrue(e.duration().toMillis() >= 2_900 && e.duration().toMillis() < 3_900, e.toString());
                    assertTrue(e.idle().toMillis() < 600, e.toString());
                }
                // and one lifetime signature at 3 s on the upstream leg, no idle one
                await().atMost(Duration.ofSeconds(5)).until(() -> h.app.diagnosis().signatures().size() == 1);
                Signature s = h.app.diagnosis().signatures().get(0);
                assertEquals(List.of("default", Leg.UPSTREAM, TimeoutKind.LIFETIME, "3", SESSIONS, SESSIONS),
                        List.of(s.route(), s.leg(), s.kind(), s.seconds(), s.count(), s.total()));
                assertTrue(s.valueMillis() >= 2_900 && s.valueMillis() < 3_900, s.toString());
                assertEquals(5.0, h.app.registry().get("closewatch.diagnosis.signature")
                        .tags("route", "default", "leg", "upstream", "kind", "lifetime", "seconds", "3").gauge().value());
                assertEquals(0.0, h.app.registry().get("closewatch.diagnosis.signature")
                        .tags("route", "default", "leg", "upstream", "kind", "idle", "seconds", "none").gauge().value());
                assertEquals(1, lines.list.stream()
                        .filter(l -> SignatureDetector.EVENT.equals(ProxyHarness.kv(l, "event"))).count());
            } finally {
                sender.shutdownNow();
                for (RawClient c : clients) {
                    c.close();
                }
                log.detachAppender(lines);
            }
        }
    }

    /** A TCP relay on 127.0.0.1 that closes both sides of every connection {@code lifetime} after it opened. */
    private static final class AgeCappedRelay implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "age-capped-relay");
            t.setDaemon(true);
            return t;
        });
        private final ScheduledExecutorService cutter = Executors.newSingleThreadScheduledExecutor();
        private final AtomicInteger target = new AtomicInteger();
        private final Duration lifetime;

        AgeCappedRelay(Duration lifetime) throws IOException {
            this.lifetime = lifetime;
            threads.execute(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        void target(int port) {
            target.set(port);
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket in = server.accept();
                    Socket out = new Socket(InetAddress.getLoopbackAddress(), target.get());
                    cutter.schedule(() -> {
                        closeQuietly(in);
                        closeQuietly(out);
                    }, lifetime.toMillis(), TimeUnit.MILLISECONDS);
                    threads.execute(() -> pump(in, out));
                    threads.execute(() -> pump(out, in));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void pump(Socket from, Socket to) {
            byte[] buf = new byte[8192];
            try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                int n;
                while ((n = i.read(buf)) >= 0) {
                    o.write(buf, 0, n);
                }
            } catch (IOException closed) {
                // cut by the lifetime, or the other side went
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            cutter.shutdownNow();
            threads.shutdownNow();
        }
    }
}
