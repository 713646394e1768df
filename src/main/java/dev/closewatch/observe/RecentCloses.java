package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import dev.closewatch.websocket.CloseEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The most recent close events, in a ring of fixed capacity: the newest overwrites the oldest.
 * Read by the admin API ({@code GET /api/closes}); fed as a close consumer of
 * {@link Observability} on the event loops.
 *
 * <p>Lock-free: {@link #accept} takes a sequence number and stores into its slot (one
 * {@code getAndIncrement}, one compare-and-set, one small allocation); {@link #newestFirst}
 * walks back from the newest sequence number and skips slots that a writer has claimed but not
 * filled yet, or already overwritten — a reader may therefore miss an event that is being
 * recorded at that very moment, never see a torn one.
 */
public final class RecentCloses implements Consumer<CloseEvent> {

    private final int capacity;
    private final AtomicReferenceArray<Slot> slots;
    private final AtomicLong next = new AtomicLong();

    private record Slot(long sequence, CloseEvent event) {
    }

    /**
     * @param capacity how many events are kept, at least 1
     * @throws IllegalArgumentException if {@code capacity < 1}
     */
    public RecentCloses(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
        }
        this.capacity = capacity;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    /** How many events are kept. */
    public int capacity() {
        return capacity;
    }

    /** How many events were ever recorded (the ring keeps the last {@link #capacity()}). */
    public long recorded() {
        return next.get();
    }

    /** Records {@code event}; cheap enough for an event loop. */
    @Override
    public void accept(CloseEvent event) {
        requireNonNull(event, "event");
        long sequence = next.getAndIncrement();
        int index = (int) (sequence % capacity);
        Slot slot = new Slot(sequence, event);
        while (true) {
            Slot current = slots.get(index);
            // a slower writer of an older lap must not overwrite a newer event
            if (current != null && current.sequence() > sequence) {
                return;
            }
            if (slots.compareAndSet(index, current, slot)) {
                return;
            }
        }
    }

    /**
     * The kept events matching {@code filter}, newest first.
     *
     * @param filter which events to return
     * @param limit  at most this many, at least 1
     * @return a new list, at most {@code min(limit, capacity)} long
     */
    public List<CloseEvent> newestFirst(Predicate<? super CloseEvent> filter, int limit) {
        requireNonNull(filter, "filter");
        if (limit < 1) {
            throw new IllegalArgumentException("limit: " + limit + " (expected: >= 1)");
        }
        long newest = next.get() - 1;
        long oldest = Math.max(0, newest - capacity + 1);
        List<CloseEvent> out = new ArrayList<>(Math.min(limit, capacity));
        for (long s = newest; s >= oldest && out.size() < limit; s--) {
            Slot slot = slots.get((int) (s % capacity));
            if (slot != null && slot.sequence() == s && filter.test(slot.event())) {
                out.add(slot.event());
            }
        }
        return out;
    }
}
