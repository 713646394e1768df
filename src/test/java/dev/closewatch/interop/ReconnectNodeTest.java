package dev.closewatch.interop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.config.RouteConfig;
import dev.closewatch.diagnose.reconnect.ReconnectMeters;
import dev.closewatch.testing.ProxyHarness;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reconnect behaviour end to end: Node.js {@code ws} clients (src/test/node/ws-reconnect.js) drop
 * their sessions (1006) and reconnect through a real closewatch on 127.0.0.1, one group at once,
 * one with exponential back-off, each on its own route and keyed by a {@code device} query
 * parameter ({@code reconnect.key: query:device}).
 */
class ReconnectNodeTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final List<NodePeer> clients = new ArrayList<>();
    private ProxyHarness proxy;

    @BeforeEach
    void start() throws Exception {
        NodePeer.requireNode();
        proxy = ProxyHarness.start(c -> {
            String up = c.routes().get(0).upstream();
            return c.withRoutes(List.of(new RouteConfig("immediate", "/immediate", null, up, null),
                            new RouteConfig("backoff", "/backoff", null, up, null)))
                    .withReconnect(new ReconnectConfig("query:device", null, null, null));
        });
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(NodePeer::stop);
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void shouldFlagImmediateReconnectersAndNotThoseThatBackOff() throws Exception {
        // Given three clients reconnecting at once (7 sessions, 6 reconnects each) and three that
        // wait 150, 300, 600, 1200, 2400 ms (6 sessions, 5 reconnects each): each wait at least
        // 50 ms above its delay bucket's lower bound and 100 ms below its upper one, so that a
        // loaded machine's scheduling delay does not move it to the next bucket
        for (int i = 0; i < 3; i++) {
            clients.add(NodePeer.start("ws-reconnect.js", url("/immediate", "hammer-" + i), "7", "0", "1"));
            clients.add(NodePeer.start("ws-reconnect.js", url("/backoff", "polite-" + i), "6", "150", "2"));
        }

        // When all are done
        for (NodePeer c : clients) {
            c.awaitLine("DONE"::equals, TIMEOUT);
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> proxy.count("closewatch.closes", "route", "backoff") == 18
                && proxy.count("closewatch.closes", "route", "immediate") == 21);

        // Then the three immediate clients are a storm on their route, the others are not
        assertEquals(3.0, gauge("immediate"));
        assertEquals(0.0, gauge("backoff"));
        assertEquals(18.0, proxy.count(ReconnectMeters.RECONNECTS, "route", "immediate", "previous_code", "1006"));
        assertEquals(15.0, proxy.count(ReconnectMeters.RECONNECTS, "route", "backoff", "previous_code", "1006"));
        // and the delay histogram has the back-off's delays one per bucket and client, the immediate ones at the bottom
        Timer backoff = timer("backoff");
        assertEquals(List.of(0.0, 0.0, 0.0, 3.0, 6.0, 9.0, 12.0, 15.0), buckets(backoff,
                0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5), () -> "le 10ms..5s: " + backoff.takeSnapshot());
        assertEquals(18.0, buckets(timer("immediate"), 0.25).get(0), () -> timer("immediate").takeSnapshot().toString());
        // and GET /api/reconnects lists the three storming keys, hashed, with their last delays
        String json = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + proxy.adminPort() + "/api/reconnects")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertEquals(3, json.split("\"route\":\"immediate\"", -1).length - 1, json);
        assertTrue(!json.contains("hammer") && !json.contains("polite"), json);
        assertTrue(json.contains("\"reconnects_in_a_row\":6"), json);
        assertTrue(json.contains("\"code\":\"1006\",\"reconnects\":33,\"waited_at_least_1s\":6"), json);
    }

    private String url(String path, String device) {
        return "ws://127.0.0.1:" + proxy.port() + path + "?device=" + device;
    }

    private double gauge(String route) {
        return proxy.app.registry().get("closewatch.reconnect.storm.clients").tag("route", route).gauge().value();
    }

    private Timer timer(String route) {
        return proxy.app.registry().get(ReconnectMeters.RECONNECT_DELAY)
                .tags("route", route, "previous_category", "abnormal").timer();
    }

    /** Cumulative counts at these upper bounds (seconds). */
    private static List<Double> buckets(Timer timer, double... les) {
        List<Double> out = new ArrayList<>();
        CountAtBucket[] counts = timer.takeSnapshot().histogramCounts();
        for (double le : les) {
            double found = Double.NaN;
            for (CountAtBucket b : counts) {
                if (Math.abs(b.bucket(TimeUnit.SECONDS) - le) < 1e-6) {
                    found = b.count();
                }
            }
            out.add(found);
        }
        return out;
    }
}
