package dev.closewatch.admin;

import dev.closewatch.websocket.CloseEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Fans close events out to the {@code /api/closes/stream} subscribers. {@link #accept} runs on the
 * event loops and never blocks: each subscriber has a bounded queue, and an event that does not
 * fit is dropped for that subscriber and counted (its {@link Subscription#dropped()}), so a slow
 * or stalled reader costs the proxy nothing but the count. The admin server reads each
 * subscription on its event loop ({@link Subscription#take()}, woken by the subscription's
 * {@code wakeup}); {@link Subscription#poll} serves a thread that may block.
 */
final class CloseEventStream implements Consumer<CloseEvent> {

    private final int maxSubscribers;
    private final int queueCapacity;
    private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();
    private final AtomicInteger count = new AtomicInteger();

    /**
     * @param maxSubscribers how many subscriptions may be open at once; 0 refuses all
     * @param queueCapacity  events buffered per subscriber before it drops
     */
    CloseEventStream(int maxSubscribers, int queueCapacity) {
        this.maxSubscribers = maxSubscribers;
        this.queueCapacity = queueCapacity;
    }

    int maxSubscribers() {
        return maxSubscribers;
    }

    /** Subscriptions open now. */
    int subscribers() {
        return count.get();
    }

    @Override
    public void accept(CloseEvent event) {
        for (Subscription s : subscribers) {
            if (!s.queue.offer(event)) {
                s.dropped.incrementAndGet();
            }
            s.wakeup.run();
        }
    }

    /** A new subscription read by {@link Subscription#poll}, or null if {@link #maxSubscribers()} are open already. */
    Subscription subscribe() {
        return subscribe(() -> { });
    }

    /**
     * A new subscription, or null if {@link #maxSubscribers()} are open already.
     *
     * @param wakeup run on the event loop that delivered an event (or a dropped one) to this
     *               subscription, after queueing it: it must only hand work to the reader, never block
     */
    Subscription subscribe(Runnable wakeup) {
        while (true) {
            int n = count.get();
            if (n >= maxSubscribers) {
                return null;
            }
            if (count.compareAndSet(n, n + 1)) {
                break;
            }
        }
        Subscription s = new Subscription(wakeup);
        subscribers.add(s);
        return s;
    }

    /** Closes every subscription: their readers' {@link Subscription#poll} returns at once. */
    void closeAll() {
        for (Subscription s : subscribers) {
            s.close();
        }
    }

    /**
     * One subscriber's queue. Read by one thread, through {@link #poll} or {@link #take}; closed by
     * it or by {@link #closeAll()}.
     */
    final class Subscription implements AutoCloseable {

        /**
         * Put in the emptied queue to wake a reader blocked in {@link #poll} when the stream closes
         * (should an event loop refill the queue first, the reader sees {@link #isClosed()} at its
         * next heartbeat instead).
         */
        private static final Object CLOSED = new Object();

        private final ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(queueCapacity);
        private final AtomicLong dropped = new AtomicLong();
        private final Runnable wakeup;
        private volatile boolean closed;

        private Subscription(Runnable wakeup) {
            this.wakeup = wakeup;
        }

        /** Takes every event queued now without waiting: oldest first, empty once closed. */
        List<CloseEvent> take() {
            List<CloseEvent> out = new ArrayList<>();
            if (closed) {
                return out;
            }
            List<Object> all = new ArrayList<>();
            queue.drainTo(all);
            for (Object o : all) {
                if (o != CLOSED) {
                    out.add((CloseEvent) o);
                }
            }
            return out;
        }

        /**
         * Waits up to {@code timeout} for events and takes every one queued.
         *
         * @return the events, oldest first; empty on timeout or once closed
         * @throws InterruptedException if the reading thread is interrupted
         */
        List<CloseEvent> poll(long timeout, TimeUnit unit) throws InterruptedException {
            List<CloseEvent> out = new ArrayList<>();
            if (closed) {
                return out;
            }
            Object first = queue.poll(timeout, unit);
            if (first == null || first == CLOSED) {
                return out;
            }
            out.add((CloseEvent) first);
            List<Object> more = new ArrayList<>();
            queue.drainTo(more);
            for (Object o : more) {
                if (o != CLOSED) {
                    out.add((CloseEvent) o);
                }
            }
            return out;
        }

        /** Events this subscriber missed because its queue was full. */
        long dropped() {
            return dropped.get();
        }

        boolean isClosed() {
            return closed;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (subscribers.remove(this)) {
                count.decrementAndGet();
            }
            queue.clear();
            queue.offer(CLOSED);
        }
    }
}
