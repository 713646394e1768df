package dev.closewatch.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Initiator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link CloseWindow} on a fake clock: window edges to the second, slices reused after an hour, code labels. */
class CloseWindowTest {

    private static final CloseCatalog CATALOG = CloseCatalog.loadDefault();
    private final AtomicLong nanos = new AtomicLong(Duration.ofDays(3).toNanos());
    private final CloseWindow window = new CloseWindow(nanos::get);

    @Test
    void shouldCountTheEndsOfTheLastWindowToTheSecondByCodeAndInitiator() {
        // Given a 1006 from the upstream 20 s ago, two 1000s from clients 9 s ago and one now, a 4321 now
        end(1006, Initiator.UPSTREAM);
        tick(Duration.ofSeconds(11));
        end(1000, Initiator.CLIENT);
        end(1000, Initiator.CLIENT);
        tick(Duration.ofSeconds(9).plusMillis(999));
        end(1000, Initiator.PROXY);
        end(4321, Initiator.CLIENT);

        // When / Then the last 10 s hold the 1000s and the private code (label 4xxx), most first
        assertEquals(List.of("1000 3 client=2 upstream=0 proxy=1", "4xxx 1 client=1 upstream=0 proxy=0"),
                render(window.counts(Duration.ofSeconds(10))));
        // and the last 21 s the 1006 too; the last second only what came in it
        assertEquals(List.of("1000 3 client=2 upstream=0 proxy=1", "1006 1 client=0 upstream=1 proxy=0",
                "4xxx 1 client=1 upstream=0 proxy=0"), render(window.counts(Duration.ofSeconds(21))));
        assertEquals(List.of("1000 1 client=0 upstream=0 proxy=1", "4xxx 1 client=1 upstream=0 proxy=0"),
                render(window.counts(Duration.ofSeconds(1))));
    }

    @Test
    void shouldForgetASliceAnHourLaterWhenItsSlotIsReused() {
        // Given a 1006 now
        end(1006, Initiator.CLIENT);

        // When exactly an hour passes (the same slot) and a 1000 ends
        tick(CloseWindow.MAX_WINDOW);
        end(1000, Initiator.CLIENT);

        // Then only the 1000 is counted, even over the whole hour
        assertEquals(List.of("1000 1 client=1 upstream=0 proxy=0"), render(window.counts(CloseWindow.MAX_WINDOW)));
    }

    @Test
    void shouldRefuseAWindowOutsideOneSecondToOneHour() {
        assertThrows(IllegalArgumentException.class, () -> window.counts(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> window.counts(Duration.ofSeconds(3601)));
    }

    private void tick(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private void end(int code, Initiator initiator) {
        window.accept(new CloseEvent("s", "r", "127.0.0.1:50000", "127.0.0.1:8080", code, code == 1006 ? CATALOG.lookup(code) : CATALOG.classifyWire(code), "",
                initiator, true, true, Cause.CLOSE_HANDSHAKE, Instant.EPOCH, Duration.ofSeconds(1), Duration.ZERO, 0, 0));
    }

    private static List<String> render(List<CloseWindow.CodeCount> counts) {
        return counts.stream().map(c -> c.code().label() + " " + c.total() + " client=" + c.of(Initiator.CLIENT)
                + " upstream=" + c.of(Initiator.UPSTREAM) + " proxy=" + c.of(Initiator.PROXY)).toList();
    }
}
