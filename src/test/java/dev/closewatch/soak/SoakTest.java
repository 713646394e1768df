package dev.closewatch.soak;

import static dev.closewatch.observe.MeterNames.BYTES;
import static dev.closewatch.observe.MeterNames.CLOSES;
import static dev.closewatch.observe.MeterNames.CLOSE_HANDSHAKES_INCOMPLETE;
import static dev.closewatch.observe.MeterNames.SESSIONS_ACTIVE;
import static dev.closewatch.observe.MeterNames.SESSIONS_OPENED;
import static dev.closewatch.observe.MeterNames.UPGRADES;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.catalog.CloseCode;
import dev.closewatch.testing.Ending;
import dev.closewatch.testing.LeakDetectionExtension;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.websocket.CloseEvent;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * The soak (issue 10, "Tests that must exist"): 10,000 sessions with mixed endings through one
 * proxy, then a drain of 50 open sessions, at Netty's {@code paranoid} leak level (the normal test
 * JVM), with real loopback sockets on both sides. Every session's close event, every meter and
 * the bytes each peer received must agree exactly with the mix that was started, and no buffer
 * may leak. The figures are printed in one block for the closing note.
 */
class SoakTest {

    private static final int SESSIONS = 10_000;
    private static final int IN_FLIGHT = 64;
    private static final int DRAINED = 50;
    private static final Duration DEADLINE = Duration.ofSeconds(100);
    private static final List<Ending> MIX = List.of(Ending.CLIENT_CLOSE, Ending.UPSTREAM_CLOSE,
            Ending.CLIENT_HALF_CLOSE, Ending.UPSTREAM_HALF_CLOSE, Ending.CLIENT_FIN, Ending.UPSTREAM_FIN,
            Ending.CLIENT_RST, Ending.UPSTREAM_RST);

    /** What the peers of every session saw, indexed by session number. */
    private static final class Peers {
        final Ending[] endings;
        final AtomicIntegerArray clientPort;
        final AtomicLongArray clientReceived;
        final AtomicLongArray upstreamReceived;
        final AtomicIntegerArray upstreamDone;
        final Queue<String> failures = new ConcurrentLinkedQueue<>();

        Peers(Ending[] endings) {
            this.endings = endings;
            clientPort = new AtomicIntegerArray(endings.length);
            clientReceived = new AtomicLongArray(endings.length);
            upstreamReceived = new AtomicLongArray(endings.length);
            upstreamDone = new AtomicIntegerArray(endings.length);
        }

        void fail(int seq, String side, Throwable e) {
            failures.add("session " + seq + " " + endings[seq] + " " + side + ": " + e);
        }
    }

    @Test
    void shouldAccountExactlyForTenThousandSessionsWithMixedEndingsAndADrain() throws Exception {
        // Given one proxy, an upstream that plays each session's ending (named in the request
        // path), and 10,000 endings in a shuffled mix, then 50 sessions left open for a drain
        Ending[] endings = new Ending[SESSIONS + DRAINED];
        for (int i = 0; i < SESSIONS; i++) {
            endings[i] = MIX.get(i % MIX.size());
        }
        Collections.shuffle(java.util.Arrays.asList(endings).subList(0, SESSIONS), new Random(10));
        for (int i = SESSIONS; i < endings.length; i++) {
            endings[i] = Ending.DRAIN;
        }
        Peers peers = new Peers(endings);
        int leaksBefore = LeakDetectionExtension.collectLeakReports();
        long rssBefore = rssKib();
        long started = System.nanoTime();
        long deadline = started + DEADLINE.toNanos();
        ExecutorService clients = Executors.newFixedThreadPool(IN_FLIGHT);
        ExecutorService drainClients = Executors.newFixedThreadPool(DRAINED);
        try (ProxyHarness h = ProxyHarness.start()) {
            h.upstream.script(c -> {
                String[] path = c.accept().startLine().split(" ")[1].split("/");
                int seq = Integer.parseInt(path[3]);
                try {
                    peers.upstreamReceived.set(seq, endings[seq].upstream(c, seq));
                } catch (Exception | AssertionError e) {
                    peers.fail(seq, "upstream", e);
                } finally {
                    peers.upstreamDone.set(seq, 1);
                }
            });

            // When the 10,000 sessions run, IN_FLIGHT at a time
            for (int i = 0; i < SESSIONS; i++) {
                int seq = i;
                clients.execute(() -> runClient(h, peers, seq, () -> { }));
            }
            clients.shutdown();
            assertTrue(clients.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS),
                    "the 10,000 sessions did not finish within " + DEADLINE);
            long soakNanos = System.nanoTime() - started;
            // ... and then 50 sessions are open and relaying when the proxy drains
            CountDownLatch relaying = new CountDownLatch(DRAINED);
            for (int i = SESSIONS; i < endings.length; i++) {
                int seq = i;
                drainClients.execute(() -> runClient(h, peers, seq, relaying::countDown));
            }
            assertTrue(relaying.await(remaining(deadline), TimeUnit.NANOSECONDS), "drain sessions did not open");
            await().atMost(Duration.ofSeconds(10)).until(() -> h.app.proxy().openSessions() == DRAINED);
            h.app.proxy().drain();
            drainClients.shutdown();
            assertTrue(drainClients.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS),
                    "drained sessions did not finish");
            await().atMost(Duration.ofSeconds(10)).until(() -> sum(peers.upstreamDone) == endings.length
                    && h.accounting().events().size() >= endings.length);
            long totalNanos = System.nanoTime() - started;
            int leaksAfter = LeakDetectionExtension.collectLeakReports();
            long rssAfter = rssKib();

            // Then the figures, printed for the closing note
            Map<String, Long> expectedCloses = new TreeMap<>();
            Map<String, Long> expectedEvents = new TreeMap<>();
            long c2u = 0;
            long u2c = 0;
            for (int seq = 0; seq < endings.length; seq++) {
                Ending e = endings[seq];
                CloseCode cc = h.app.catalog().lookup(e.code);
                expectedCloses.merge(closeKey(cc.label(), cc.category().label(), e.initiator.label(),
                        e.cause.label(), e.clean), 1L, Long::sum);
                expectedEvents.merge(eventKey(peers.clientPort.get(seq), e.code, e.initiator.label(), e.clean,
                        e.cause.label(), peers.upstreamReceived.get(seq), peers.clientReceived.get(seq)), 1L, Long::sum);
                c2u += peers.upstreamReceived.get(seq);
                u2c += peers.clientReceived.get(seq);
            }
            List<CloseEvent> events = h.accounting().events();
            Map<String, Long> actualCloses = new TreeMap<>();
            Map<String, Long> actualEvents = new TreeMap<>();
            Map<Integer, List<CloseEvent>> eventsByPort = new java.util.HashMap<>();
            for (CloseEvent e : events) {
                actualCloses.merge(closeKey(e.classification().label(), e.classification().category().label(),
                        e.initiator().label(), e.cause().label(), e.clean()), 1L, Long::sum);
                int port = Integer.parseInt(e.client().substring(e.client().lastIndexOf(':') + 1));
                actualEvents.merge(eventKey(port, e.code(), e.initiator().label(), e.clean(), e.cause().label(),
                        e.bytesClientToUpstream(), e.bytesUpstreamToClient()), 1L, Long::sum);
                eventsByPort.computeIfAbsent(port, k -> new ArrayList<>()).add(e);
            }
            // Each session's own close event, matched by client port (ports may be reused: a multiset)
            Map<String, Long> unmatched = new TreeMap<>(actualEvents);
            Map<Ending, Integer> exact = new java.util.EnumMap<>(Ending.class);
            Map<Ending, List<String>> wrong = new java.util.EnumMap<>(Ending.class);
            for (int seq = 0; seq < endings.length; seq++) {
                Ending e = endings[seq];
                int port = peers.clientPort.get(seq);
                String key = eventKey(port, e.code, e.initiator.label(), e.clean, e.cause.label(),
                        peers.upstreamReceived.get(seq), peers.clientReceived.get(seq));
                if (unmatched.getOrDefault(key, 0L) > 0) {
                    unmatched.merge(key, -1L, Long::sum);
                    exact.merge(e, 1, Integer::sum);
                } else {
                    List<String> samples = wrong.computeIfAbsent(e, k -> new ArrayList<>());
                    if (samples.size() < 2) {
                        samples.add("expected " + key + "; recorded for that port: "
                                + eventsByPort.getOrDefault(port, List.of()).stream().map(ev -> eventKey(port,
                                        ev.code(), ev.initiator().label(), ev.clean(), ev.cause().label(),
                                        ev.bytesClientToUpstream(), ev.bytesUpstreamToClient())).toList());
                    }
                }
            }
            Map<String, Long> failuresBySide = new TreeMap<>();
            for (String f : peers.failures) {
                String[] words = f.split(" ");
                failuresBySide.merge(words[2] + " " + words[3].replace(":", ""), 1L, Long::sum);
            }
            double opened = h.count(SESSIONS_OPENED, "route", "default");
            double upgrades101 = h.count(UPGRADES, "route", "default", "status", "101");
            double closes = h.app.registry().find(CLOSES).counters().stream().mapToDouble(c -> c.count()).sum();
            double incomplete = h.app.registry().find(CLOSE_HANDSHAKES_INCOMPLETE).counters().stream()
                    .mapToDouble(c -> c.count()).sum();
            Gauge activeGauge = h.app.registry().find(SESSIONS_ACTIVE).tag("route", "default").gauge();
            double active = activeGauge == null ? -1 : activeGauge.value();
            double bytesC2u = h.count(BYTES, "route", "default", "direction", "client_to_upstream");
            double bytesU2c = h.count(BYTES, "route", "default", "direction", "upstream_to_client");
            StringBuilder figures = new StringBuilder("\n===== closewatch soak =====\n");
            figures.append(String.format("sessions started      %d (%d mixed endings + %d drained), %d in flight%n",
                    endings.length, SESSIONS, DRAINED, IN_FLIGHT));
            figures.append(String.format("duration              %.1f s for the %d, %.1f s with the drain%n",
                    soakNanos / 1e9, SESSIONS, totalNanos / 1e9));
            figures.append(String.format("sessions_opened_total %.0f; upgrades_total{101} %.0f; closes_total %.0f; "
                    + "close events %d; sessions_active %.0f%n", opened, upgrades101, closes, events.size(), active));
            figures.append(String.format("close_handshakes_incomplete_total %.0f%n", incomplete));
            figures.append("closes by code|category|initiator|cause|clean (recorded / expected):\n");
            java.util.Set<String> keys = new java.util.TreeSet<>(expectedCloses.keySet());
            keys.addAll(actualCloses.keySet());
            for (String k : keys) {
                figures.append(String.format("  %-50s %6d / %6d%n", k, actualCloses.getOrDefault(k, 0L),
                        expectedCloses.getOrDefault(k, 0L)));
            }
            figures.append(String.format("bytes_total client_to_upstream %.0f, upstream received %d%n", bytesC2u, c2u));
            figures.append(String.format("bytes_total upstream_to_client %.0f, clients received %d%n", bytesU2c, u2c));
            figures.append("sessions whose close event matched exactly (code, initiator, clean, cause, bytes):\n");
            for (Ending e : Ending.values()) {
                long count = java.util.Arrays.stream(endings).filter(x -> x == e).count();
                figures.append(String.format("  %-20s %6d / %6d%n", e, exact.getOrDefault(e, 0), count));
                wrong.getOrDefault(e, List.of()).forEach(w -> figures.append("      ").append(w).append('\n'));
            }
            figures.append(String.format("peer failures         %d %s%n", peers.failures.size(), failuresBySide));
            peers.failures.stream().limit(6).forEach(f -> figures.append("  ").append(f).append('\n'));
            figures.append(String.format("leak reports          %d (before the soak %d)%n", leaksAfter - leaksBefore,
                    leaksBefore));
            figures.append(String.format("JVM RSS (VmRSS)       %d MiB before, %d MiB after%n", rssBefore / 1024,
                    rssAfter / 1024));
            figures.append("===========================\n");
            System.out.print(figures);

            List<String> mismatched = new ArrayList<>();
            diff(expectedEvents, actualEvents, mismatched);
            assertEquals(0, peers.failures.size(), "peers that did not see exactly their ending (the first are above)");
            assertEquals(endings.length, opened, "sessions opened");
            assertEquals(endings.length, closes, "closes recorded");
            assertEquals(endings.length, events.size(), "close events delivered");
            assertEquals(opened, upgrades101, "every 101 relayed is a session");
            assertEquals(0, active, "sessions_active");
            assertEquals(0, incomplete, "close handshakes left incomplete");
            assertEquals(expectedCloses, actualCloses, "closes by code, category, initiator, cause, clean");
            assertEquals(List.of(), mismatched, "each session's close event (client port, code, initiator, clean, "
                    + "cause, bytes c2u, bytes u2c): expected vs recorded");
            assertEquals(c2u, bytesC2u, "bytes_total{client_to_upstream} = bytes the upstream received");
            assertEquals(u2c, bytesU2c, "bytes_total{upstream_to_client} = bytes the clients received");
            assertEquals(0, leaksAfter - leaksBefore, "Netty leak reports");
            assertTrue(h.upstream.errors().isEmpty(), () -> "upstream errors: " + h.upstream.errors());
            // (the harness asserts the general accounting invariants when it closes)
        } finally {
            clients.shutdownNow();
            drainClients.shutdownNow();
        }
    }

    private static void runClient(ProxyHarness h, Peers peers, int seq, Runnable relaying) {
        Ending ending = peers.endings[seq];
        try (RawClient c = RawClient.connect(h.port())) {
            peers.clientPort.set(seq, Ending.localPort(c));
            int status = c.handshake("/soak/" + ending.name() + "/" + seq).status();
            if (status != 101) {
                throw new AssertionError("handshake answered " + status);
            }
            peers.clientReceived.set(seq, ending.client(c, seq, relaying));
        } catch (Exception | AssertionError e) {
            peers.fail(seq, "client", e);
            relaying.run();
        }
    }

    private static String closeKey(String code, String category, String initiator, String cause, boolean clean) {
        return code + "|" + category + "|" + initiator + "|" + cause + "|" + (clean ? "clean" : "unclean");
    }

    private static String eventKey(int port, int code, String initiator, boolean clean, String cause, long c2u,
                                   long u2c) {
        return "port " + port + " " + code + " " + initiator + " " + (clean ? "clean" : "unclean") + " " + cause
                + " c2u=" + c2u + " u2c=" + u2c;
    }

    /** Up to 10 lines "expected N / recorded M: key" where the two multisets differ. */
    private static void diff(Map<String, Long> expected, Map<String, Long> actual, List<String> out) {
        java.util.Set<String> keys = new java.util.TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        long differing = 0;
        for (String k : keys) {
            long e = expected.getOrDefault(k, 0L);
            long a = actual.getOrDefault(k, 0L);
            if (e != a) {
                if (++differing <= 10) {
                    out.add("expected " + e + " / recorded " + a + ": " + k);
                }
            }
        }
        if (differing > 10) {
            out.add("... " + (differing - 10) + " more");
        }
    }

    private static int sum(AtomicIntegerArray a) {
        int s = 0;
        for (int i = 0; i < a.length(); i++) {
            s += a.get(i);
        }
        return s;
    }

    private static long remaining(long deadlineNanos) {
        return Math.max(0, deadlineNanos - System.nanoTime());
    }

    /** This JVM's resident set size in KiB, from /proc/self/status (VmRSS); -1 where there is none. */
    private static long rssKib() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
