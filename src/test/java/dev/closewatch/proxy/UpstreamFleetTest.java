package dev.closewatch.proxy;

import static dev.closewatch.testing.Frames.CLOSE;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.config.UpstreamConfig;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.testing.Frames;
import dev.closewatch.testing.ProxyHarness;
import dev.closewatch.testing.RawClient;
import dev.closewatch.testing.RawUpstream;
import io.micrometer.core.instrument.Gauge;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upstream host name with two addresses (a hosts file naming {@code fleet.test} 127.0.0.1 and
 * 127.0.0.2, both loopback) end to end: sessions go to both, round-robin; an address that refuses
 * is ejected alone while the other keeps taking sessions; the {@code upstream} label is the
 * configured upstream, never an address, and the healthy-address gauge counts exactly.
 */
class UpstreamFleetTest {

    @AfterEach
    void forgetHostsFile() {
        System.clearProperty(UpstreamResolver.HOSTS_FILE_PROPERTY);
    }

    private static ProxyHarness fleet(Path dir, int port) throws Exception {
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 fleet.test\n127.0.0.2 fleet.test\n");
        System.setProperty(UpstreamResolver.HOSTS_FILE_PROPERTY, hosts.toString());
        return ProxyHarness.start(c -> c.withUpstream("ws://fleet.test:" + port)
                .withUpstreamTimeouts(new UpstreamConfig(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMinutes(5), null)));
    }

    private static void session(ProxyHarness h) throws Exception {
        try (RawClient c = RawClient.open(h.port(), "/")) {
            assertEquals(101, c.response().status());
            c.send(true, CLOSE, Frames.closeBody(1000, ""));
            c.readFrame();
        }
        h.nextEvent();
    }

    private static double healthy(ProxyHarness h, String upstream) {
        Gauge g = h.app.registry().find(MeterNames.UPSTREAM_HEALTHY_ADDRESSES).tags("route", "default", "upstream", upstream).gauge();
        return g == null ? -1 : g.value();
    }

    private static Set<String> upstreamLabels(ProxyHarness h, String meter) {
        return h.app.registry().find(meter).counters().stream().map(c -> c.getId().getTag("upstream"))
                .collect(Collectors.toSet());
    }

    @Test
    void shouldSpreadSessionsOverEveryAddressOfAName(@TempDir Path dir) throws Exception {
        // Given two upstream listeners on one port, at 127.0.0.1 and 127.0.0.2, both named fleet.test
        try (RawUpstream one = new RawUpstream(InetAddress.getByName("127.0.0.1"), 0);
             RawUpstream two = new RawUpstream(InetAddress.getByName("127.0.0.2"), one.port());
             ProxyHarness h = fleet(dir, one.port())) {
            String upstream = "ws://fleet.test:" + one.port();
            await().atMost(Duration.ofSeconds(5)).until(() -> healthy(h, upstream) == 2.0);
            // When four sessions open and close
            for (int i = 0; i < 4; i++) {
                session(h);
            }
            // Then each address took two, round-robin
            assertEquals(2, one.connections().size());
            assertEquals(2, two.connections().size());
            // and the upstream label is the upstream as written, never an address
            assertEquals(4.0, h.count(MeterNames.SESSIONS_OPENED, "route", "default", "upstream", upstream));
            assertEquals(Set.of(upstream), upstreamLabels(h, MeterNames.SESSIONS_OPENED));
            assertEquals(Set.of(upstream), upstreamLabels(h, MeterNames.UPSTREAM_CONNECT_FAILURES));
            assertEquals(0.0, h.count(MeterNames.UPSTREAM_CONNECT_FAILURES, "route", "default"));
            assertEquals(2.0, healthy(h, upstream));
        }
    }

    @Test
    void shouldEjectAFailedAddressAloneForTheBackoff(@TempDir Path dir) throws Exception {
        // Given fleet.test's 127.0.0.2 refuses (nothing listens there) and 127.0.0.1 answers
        try (RawUpstream one = new RawUpstream(InetAddress.getByName("127.0.0.1"), 0);
             ProxyHarness h = fleet(dir, one.port())) {
            String upstream = "ws://fleet.test:" + one.port();
            await().atMost(Duration.ofSeconds(5)).until(() -> healthy(h, upstream) == 2.0);
            // When four sessions open and close
            for (int i = 0; i < 4; i++) {
                session(h);
            }
            // Then every one opened on 127.0.0.1: the refusal cost one retry, once
            assertEquals(4, one.connections().size());
            assertEquals(1.0, h.count(MeterNames.UPSTREAM_CONNECT_FAILURES, "route", "default", "upstream", upstream,
                    "cause", "refused"));
            assertEquals(1.0, h.count(MeterNames.UPSTREAM_CONNECT_FAILURES, "route", "default"));
            // and only the failed address is ejected (for upstream.failure_backoff, 5 minutes here)
            assertEquals(1.0, healthy(h, upstream));
            assertEquals(4.0, h.count(MeterNames.SESSIONS_OPENED, "route", "default", "upstream", upstream));
            assertTrue(h.upstream.connections().isEmpty());
        }
    }
}
