package dev.closewatch.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.closewatch.observe.MeterNames;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The accounting invariants the harness asserts must be able to fail. */
class AccountingTest {

    @Test
    void shouldHoldAfterACleanSession() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given a session closed by the client and answered by the upstream
            try (RawClient client = RawClient.open(h.port(), "/")) {
                client.send(true, Frames.CLOSE, Frames.closeBody(1000, ""));
                client.readFrame();
                assertTrue(client.peerClosed());
            }
            h.nextEvent();
            // When / Then
            h.accounting().assertBalanced(Duration.ofSeconds(10));
            assertEquals(1, h.accounting().events().size());
        }
    }

    @Test
    void shouldReportASessionLeftOpen() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given a session that is still open
            try (RawClient client = RawClient.open(h.port(), "/")) {
                assertEquals(101, client.response().status());
                // When the invariants are checked
                AssertionError e = assertThrows(AssertionError.class,
                        () -> h.accounting().assertBalanced(Duration.ofMillis(200)));
                // Then the open session and its missing close are named
                assertTrue(e.getMessage().contains("sessions_active{route=default} = 1.0 (expected 0)"), e.getMessage());
                assertTrue(e.getMessage().contains("proxy still tracks 1 open session(s)"), e.getMessage());
                assertTrue(e.getMessage().contains("closes_total = sessions_opened_total + open failures"),
                        e.getMessage());
            }
            h.nextEvent();
        }
    }

    @Test
    void shouldReportACloseCountedWithoutAnEvent() throws Exception {
        try (ProxyHarness h = ProxyHarness.start()) {
            // Given a close counted that no session ended with
            Counter.builder(MeterNames.CLOSES).tags("route", "default", "code", "1000", "category", "normal",
                    "initiator", "client").register(h.app.registry()).increment();
            // When
            List<String> broken = h.accounting().violations();
            // Then
            assertEquals(List.of(
                    "closes_total = close events delivered: {default=1.0} vs {}",
                    "closes_total = sessions_opened_total + open failures (1015 before a 101): {default=1.0} vs {}",
                    "closes_total by route|code|category|initiator = close events: {default|1000|normal|client=1.0} vs {}"),
                    broken);
            // (and the harness's own check on close would fail the same way)
            assertThrows(AssertionError.class, () -> h.accounting().assertBalanced(Duration.ofMillis(100)));
            h.app.registry().remove(h.app.registry().find(MeterNames.CLOSES).counter());
        }
    }
}
