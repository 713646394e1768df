package dev.closewatch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.closewatch.config.UpstreamUri;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link UpstreamPool} with a test clock: round-robin over upstreams and addresses, per-address ejection. */
class UpstreamPoolTest {

    private static final long BACKOFF = 10_000;
    private final AtomicLong now = new AtomicLong(1_000);

    private static InetSocketAddress at(String ip) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), 9000);
    }

    private UpstreamPool pool(String... uris) {
        return new UpstreamPool(java.util.Arrays.stream(uris).map(UpstreamUri::parse).toList(), BACKOFF, now::get);
    }

    @Test
    void shouldRotateOverEveryAddressInAStableOrder() throws Exception {
        // Given one upstream whose name resolves to three addresses, in whatever order DNS answers
        UpstreamPool pool = pool("ws://fleet:9000");
        UpstreamPool.Upstream u = pool.all().get(0);
        List<InetSocketAddress> answer = List.of(at("10.0.0.3"), at("10.0.0.1"), at("10.0.0.2"));
        // When three connections ask, the answer's order changing in between
        List<InetSocketAddress> first = pool.resolved(u, answer);
        List<InetSocketAddress> second = pool.resolved(u, List.of(answer.get(2), answer.get(0), answer.get(1)));
        List<InetSocketAddress> third = pool.resolved(u, answer);
        // Then each starts at the next address
        assertEquals(List.of(at("10.0.0.1"), at("10.0.0.2"), at("10.0.0.3")), first);
        assertEquals(List.of(at("10.0.0.2"), at("10.0.0.3"), at("10.0.0.1")), second);
        assertEquals(List.of(at("10.0.0.3"), at("10.0.0.1"), at("10.0.0.2")), third);
        assertEquals(3, pool.healthyAddresses(u));
        assertEquals("ws://fleet:9000", u.label());
    }

    @Test
    void shouldEjectEachAddressAloneForTheBackoff() throws Exception {
        // Given two addresses, the first of which failed
        UpstreamPool pool = pool("ws://fleet:9000");
        UpstreamPool.Upstream u = pool.all().get(0);
        List<InetSocketAddress> answer = List.of(at("10.0.0.1"), at("10.0.0.2"));
        pool.resolved(u, answer);
        pool.failed(u, at("10.0.0.1"));
        // When the next connections ask
        // Then the ejected address comes last, whatever the rotation, until the back-off is over
        assertEquals(List.of(at("10.0.0.2"), at("10.0.0.1")), pool.resolved(u, answer));
        assertEquals(List.of(at("10.0.0.2"), at("10.0.0.1")), pool.resolved(u, answer));
        assertEquals(1, pool.healthyAddresses(u));
        assertEquals(List.of(u), pool.candidates(), "one healthy address keeps the upstream in front");
        now.addAndGet(BACKOFF);
        assertEquals(2, pool.healthyAddresses(u));
        assertEquals(List.of(at("10.0.0.2"), at("10.0.0.1")), pool.resolved(u, answer));
        assertEquals(List.of(at("10.0.0.1"), at("10.0.0.2")), pool.resolved(u, answer), "back in the rotation");
    }

    @Test
    void shouldPutAnUpstreamWithoutAUsableAddressLast() throws Exception {
        // Given two upstreams: one whose only address failed, one whose name did not resolve
        UpstreamPool pool = pool("ws://a:9000", "ws://b:9000", "ws://c:9000");
        UpstreamPool.Upstream a = pool.all().get(0);
        UpstreamPool.Upstream b = pool.all().get(1);
        UpstreamPool.Upstream c = pool.all().get(2);
        pool.resolved(a, List.of(at("10.0.0.1")));
        pool.failed(a, at("10.0.0.1"));
        pool.unresolved(b);
        // When a connection asks
        // Then the upstream that works comes first, the others after it
        assertEquals(List.of(c, a, b), pool.candidates());
        assertEquals(0, pool.healthyAddresses(a));
        assertEquals(0, pool.healthyAddresses(b));
        // and once the back-off is over the rotation is plain again
        now.addAndGet(BACKOFF);
        assertEquals(List.of(b, c, a), pool.candidates());
    }

    @Test
    void shouldTryAtMostThreeAddressesOfOneUpstreamAndForgetAddressesThatLeft() throws Exception {
        // Given a name with five addresses, one of which failed
        UpstreamPool pool = pool("ws://fleet:9000");
        UpstreamPool.Upstream u = pool.all().get(0);
        List<InetSocketAddress> five = List.of(at("10.0.0.1"), at("10.0.0.2"), at("10.0.0.3"), at("10.0.0.4"), at("10.0.0.5"));
        pool.resolved(u, five);
        pool.failed(u, at("10.0.0.5"));
        // When the next connection asks
        List<InetSocketAddress> tried = pool.resolved(u, five);
        // Then it gets three
        assertEquals(UpstreamPool.MAX_ATTEMPTS_PER_UPSTREAM, tried.size());
        assertEquals(4, pool.healthyAddresses(u));
        // and when the failed address leaves the records and comes back, it is no longer ejected
        pool.resolved(u, five.subList(0, 4));
        pool.resolved(u, five);
        assertEquals(5, pool.healthyAddresses(u));
    }
}
