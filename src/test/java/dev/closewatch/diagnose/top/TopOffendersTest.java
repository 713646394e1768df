package dev.closewatch.diagnose.top;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.closewatch.catalog.Category;
import dev.closewatch.diagnose.top.TopOffenders.Dimension;
import dev.closewatch.websocket.SessionFacts;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Heavy hitters per category over a sliding window, on a fake clock. */
class TopOffendersTest {

    private final AtomicLong nanos = new AtomicLong(0);
    private final TopOffenders top = new TopOffenders(Duration.ofMinutes(10), nanos::get);

    @Test
    void shouldRankTheHeaviestHittersOfACategoryFirstAmongThousands() {
        // Given 5000 abnormal ends from distinct clients and agents, and 3000 from one client and one agent
        for (int i = 0; i < 5000; i++) {
            top.record(new SessionFacts(null, "10." + (i / 65536) + "." + (i / 256 % 256) + "." + (i % 256),
                    "agent/" + i, "https://o" + (i % 7) + ".example", "/ws/" + (i % 3)), Category.ABNORMAL);
        }
        for (int i = 0; i < 3000; i++) {
            top.record(new SessionFacts(null, "203.0.113.9", "bad-bot/1.0", "https://evil.example", "/ws/0"), Category.ABNORMAL);
        }
        // and 4000 normal ends of another agent
        for (int i = 0; i < 4000; i++) {
            top.record(new SessionFacts(null, "192.0.2.1", "good/2.0", null, "/ws/1"), Category.NORMAL);
        }

        // Then the one client and the one agent are first for abnormal, with sketch bounds around the true count
        TopOffenders.Top clients = top.top(Dimension.CLIENT, Category.ABNORMAL, 3);
        assertEquals("203.0.113.9", clients.entries().get(0).value());
        assertEquals(8000, clients.sessions());
        TopOffenders.Entry first = clients.entries().get(0);
        assertEquals(true, first.lowerBound() <= 3000 && first.upperBound() >= 3000, first.toString());
        assertEquals("bad-bot/1.0", top.top(Dimension.USER_AGENT, Category.ABNORMAL, 1).entries().get(0).value());
        assertEquals("203.0.113.0/24", top.top(Dimension.NETWORK, Category.ABNORMAL, 1).entries().get(0).value());
        assertEquals("/ws/0", top.top(Dimension.PATH, Category.ABNORMAL, 1).entries().get(0).value());
        // and the normal ends' agent first over all categories
        assertEquals("good/2.0", top.top(Dimension.USER_AGENT, null, 1).entries().get(0).value());
    }

    @Test
    void shouldForgetEndsOlderThanTheWindow() {
        // Given ends of agent a, then 6 minutes later of agent b
        for (int i = 0; i < 10; i++) {
            top.record(new SessionFacts(null, null, "a", null, null), Category.ABNORMAL);
        }
        nanos.addAndGet(Duration.ofMinutes(6).toNanos());
        top.record(new SessionFacts(null, null, "b", null, null), Category.ABNORMAL);

        // When the window has passed over a's slice
        nanos.addAndGet(Duration.ofMinutes(5).toNanos());

        // Then only b is left
        List<TopOffenders.Entry> left = top.top(Dimension.USER_AGENT, Category.ABNORMAL, 10).entries();
        assertEquals(List.of(new TopOffenders.Entry("b", 1, 1, 1)), left);
    }

    @Test
    void shouldGroupAddressesIntoTheirSlash24AndSlash48() {
        assertEquals("203.0.113.0/24", TopOffenders.network("203.0.113.77"));
        assertEquals("2001:db8:1::/48", TopOffenders.network("2001:db8:1:2:3:4:5:6"));
        assertNull(TopOffenders.network("example.com"));
        assertNull(TopOffenders.network(null));
    }

    @Test
    void shouldGroupEveryDottedQuadLikeTheGeneralPath() {
        // Given dotted quads at the edges of the fast path (no regex, no InetAddress)
        // When grouped / Then each is its /24, as InetAddress would give it
        assertEquals("127.0.0.0/24", TopOffenders.network("127.0.0.1"));
        assertEquals("0.0.0.0/24", TopOffenders.network("0.0.0.0"));
        assertEquals("255.255.255.0/24", TopOffenders.network("255.255.255.255"));
        assertEquals("10.20.30.0/24", TopOffenders.network("10.20.30.40"));
        // and what the fast path declines still goes the general way
        assertEquals("10.0.0.0/24", TopOffenders.network("::ffff:10.0.0.7"));
        assertNull(TopOffenders.network("1.2.3.4.example"));
        assertNull(TopOffenders.network(""));
    }

    @Test
    void shouldRejectAnUnknownDimension() {
        assertThrows(IllegalArgumentException.class, () -> Dimension.fromLabel("cookie"));
        assertEquals(Dimension.USER_AGENT, Dimension.fromLabel("user_agent"));
    }
}
