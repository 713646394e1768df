package dev.closewatch.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The load driver: a Netty (epoll) WebSocket client that runs the benchmark's scenarios against
 * one target address and counts exactly what it did. Every scenario has a warm-up, a measured
 * window and a drain in which each session sends a Close frame with status code 1000 and waits
 * for the server to answer and close TCP; nothing runs past its deadline.
 */
public final class Driver implements AutoCloseable {

    /** Where a run is; read by every session on every event. */
    private static final class Control {
        static final int WARMUP = 0;
        static final int MEASURE = 1;
        static final int STOP = 2;
        volatile int phase = WARMUP;
    }

    /**
     * What the driver did to end sessions, to compare with what a proxy recorded.
     *
     * @param closesSent       sessions the driver ended with Close 1000 (§7.4.1)
     * @param endedWithoutClose sessions opened (101 read) that ended with no Close frame sent
     * @param failures         failures by kind (connect refused, handshake, timeout, …)
     */
    public record Ends(long closesSent, long endedWithoutClose, Map<String, Long> failures) {
        public long failureCount() {
            return failures.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Echo: round trips completed in the window and their latency (ns). */
    public record EchoResult(long messages, double seconds, Histogram latencyNanos, Ends ends) {
    }

    /** Stream: bytes the clients read in the window. */
    public record StreamResult(long bytes, double seconds, Ends ends) {
    }

    /** Churn: sessions completed in the window, and over the whole run. */
    public record ChurnResult(long sessions, double seconds, long sessionsTotal, Ends ends) {
    }

    private final EventLoopGroup group;
    private final boolean epoll;
    private final ByteBuf closeFrame = WsWire.readOnly(
            WsWire.frame(WsWire.OP_CLOSE, WsWire.closePayload(WsWire.NORMAL_CLOSURE), new byte[] {0x11, 0x22, 0x33, 0x44}));

    /** @param threads event loop threads of the driver */
    public Driver(int threads) {
        this.epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(threads,
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    private Bootstrap bootstrap(ClientSession session) {
        return new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(session);
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Failure and end counting shared by a run's sessions. */
    private final class Tally {
        final LongAdder closesSent = new LongAdder();
        final LongAdder endedWithoutClose = new LongAdder();
        final Map<String, LongAdder> failures = new ConcurrentHashMap<>();

        void ended(ClientSession s) {
            if (s.closeSent) {
                closesSent.increment();
            } else if (s.isOpen()) {
                endedWithoutClose.increment();
            }
            if (s.failure != null) {
                failed(s.failure);
            } else if (s.closeSent && !s.closeReceived) {
                failed("no Close answer");
            }
        }

        void failed(String what) {
            String kind = what.length() > 60 ? what.substring(0, 60) : what;
            failures.computeIfAbsent(kind, k -> new LongAdder()).increment();
        }

        Ends ends() {
            Map<String, Long> f = new TreeMap<>();
            failures.forEach((k, v) -> f.put(k, v.sum()));
            return new Ends(closesSent.sum(), endedWithoutClose.sum(), f);
        }
    }

    /** Called on the benchmark's thread as the measured window opens and closes (e.g. to read the proxy's CPU time). */
    public interface WindowHook {
        void opened();

        void closed();
    }

    private WindowHook hook = new WindowHook() {
        @Override
        public void opened() {
        }

        @Override
        public void closed() {
        }
    };

    /** Sets the hook called at the edges of every measured window from now on. */
    public void windowHook(WindowHook hook) {
        this.hook = hook;
    }

    /** Runs warm-up then the measured window; returns the window's length in seconds. */
    private double window(Control control, Duration warmup, Duration measure) throws InterruptedException {
        Thread.sleep(warmup.toMillis());
        hook.opened();
        long t0 = System.nanoTime();
        control.phase = Control.MEASURE;
        Thread.sleep(measure.toMillis());
        control.phase = Control.STOP;
        double seconds = (System.nanoTime() - t0) / 1e9;
        hook.closed();
        return seconds;
    }

    /**
     * Waits up to {@code timeout} for every session to end (its channel closed and its
     * {@code channelInactive} counted), then closes the rest; returns how many had to be.
     */
    private static int drainSessions(List<? extends ClientSession> sessions, List<Channel> channels, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int forced = drain(channels, timeout);
        for (ClientSession s : sessions) {
            if (s.channel != null) {
                s.ended.await(Math.max(0, deadline - System.nanoTime()) + 1_000_000_000L, TimeUnit.NANOSECONDS);
            }
        }
        return forced;
    }

    /** Waits up to {@code timeout} for every channel to close, then closes the rest; returns how many had to be. */
    private static int drain(List<Channel> channels, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int forced = 0;
        for (Channel ch : channels) {
            long left = deadline - System.nanoTime();
            if (!ch.closeFuture().await(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                forced++;
                ch.close().await(1, TimeUnit.SECONDS);
            }
        }
        return forced;
    }

    private List<Channel> connectAll(List<? extends ClientSession> sessions, InetSocketAddress target,
                                     CountDownLatch opened, Duration timeout) throws InterruptedException {
        List<Channel> channels = new ArrayList<>();
        for (ClientSession s : sessions) {
            channels.add(bootstrap(s).connect(target).channel());
        }
        if (!opened.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(opened.getCount() + " of " + sessions.size()
                    + " connections to " + target + " did not open within " + timeout);
        }
        return channels;
    }

    /**
     * {@code connections} clients, each in a closed loop: send a masked text frame of
     * {@code messageBytes}, wait for its echo, record the round trip, repeat.
     */
    public EchoResult echo(InetSocketAddress target, int connections, int messageBytes, Duration warmup,
                           Duration measure) throws InterruptedException {
        Control control = new Control();
        Tally tally = new Tally();
        ByteBuf request = WsWire.upgradeRequest("/echo", hostPort(target));
        CountDownLatch opened = new CountDownLatch(connections);
        List<EchoSession> sessions = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            byte[] key = {(byte) (0x37 + i), (byte) 0xA1, (byte) (0x5C ^ i), (byte) 0xE8};
            ByteBuf message = WsWire.readOnly(WsWire.frame(WsWire.OP_TEXT, WsWire.ascii(messageBytes), key));
            sessions.add(new EchoSession(request, message, control, tally, opened));
        }
        List<Channel> channels = connectAll(sessions, target, opened, Duration.ofSeconds(10));
        double seconds = window(control, warmup, measure);
        drainSessions(sessions, channels, Duration.ofSeconds(10));
        Histogram all = new Histogram(1_000, TimeUnit.SECONDS.toNanos(60), 3);
        long messages = 0;
        for (EchoSession s : sessions) {
            all.add(s.latency);
            messages += s.measured;
        }
        return new EchoResult(messages, seconds, all, tally.ends());
    }

    private final class EchoSession extends ClientSession {
        private final ByteBuf message;
        private final Control control;
        private final Tally tally;
        private final CountDownLatch opened;
        final Histogram latency = new Histogram(1_000, TimeUnit.SECONDS.toNanos(60), 3);
        long measured;
        private long sentAt;

        EchoSession(ByteBuf request, ByteBuf message, Control control, Tally tally, CountDownLatch opened) {
            super(request);
            this.message = message;
            this.control = control;
            this.tally = tally;
            this.opened = opened;
        }

        @Override
        protected void onOpen() {
            opened.countDown();
            send();
        }

        private void send() {
            sentAt = System.nanoTime();
            channel.writeAndFlush(WsWire.share(message), channel.voidPromise());
        }

        @Override
        protected void onData(int opcode, long length) {
            int phase = control.phase;
            if (phase == Control.MEASURE) {
                latency.recordValue(Math.min(System.nanoTime() - sentAt, latency.getHighestTrackableValue()));
                measured++;
            }
            if (phase == Control.STOP) {
                sendClose(closeFrame);
            } else {
                send();
            }
        }

        @Override
        protected void onClosed() {
            tally.ended(this);
        }
    }

    /**
     * {@code connections} clients on the upstream's {@code /stream} path, which sends 64 KiB
     * binary frames as fast as each connection takes them; the clients count what they read.
     */
    public StreamResult stream(InetSocketAddress target, int connections, Duration warmup, Duration measure)
            throws InterruptedException {
        Control control = new Control();
        Tally tally = new Tally();
        ByteBuf request = WsWire.upgradeRequest("/stream", hostPort(target));
        CountDownLatch opened = new CountDownLatch(connections);
        List<StreamSession> sessions = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            sessions.add(new StreamSession(request, control, tally, opened));
        }
        List<Channel> channels = connectAll(sessions, target, opened, Duration.ofSeconds(10));
        double seconds = window(control, warmup, measure);
        for (StreamSession s : sessions) {
            s.channel.eventLoop().execute(() -> s.sendClose(closeFrame));
        }
        drainSessions(sessions, channels, Duration.ofSeconds(15));
        long bytes = sessions.stream().mapToLong(s -> s.measured).sum();
        return new StreamResult(bytes, seconds, tally.ends());
    }

    private final class StreamSession extends ClientSession {
        private final Control control;
        private final Tally tally;
        private final CountDownLatch opened;
        long measured;

        StreamSession(ByteBuf request, Control control, Tally tally, CountDownLatch opened) {
            super(request);
            this.control = control;
            this.tally = tally;
            this.opened = opened;
        }

        @Override
        protected void onOpen() {
            opened.countDown();
        }

        @Override
        protected void onBytes(int n) {
            if (control.phase == Control.MEASURE) {
                measured += n;
            }
        }

        @Override
        protected void onClosed() {
            tally.ended(this);
        }
    }

    /**
     * {@code users} concurrent users, each repeating as fast as it can: open a WebSocket
     * connection, one echo of {@code messageBytes}, Close 1000, wait for the server's Close and
     * TCP close.
     */
    public ChurnResult churn(InetSocketAddress target, int users, int messageBytes, Duration warmup, Duration measure)
            throws InterruptedException {
        Control control = new Control();
        Tally tally = new Tally();
        ByteBuf request = WsWire.upgradeRequest("/echo", hostPort(target));
        ByteBuf message = WsWire.readOnly(
                WsWire.frame(WsWire.OP_TEXT, WsWire.ascii(messageBytes), new byte[] {0x5E, 0x21, (byte) 0x9C, 0x03}));
        LongAdder measured = new LongAdder();
        LongAdder total = new LongAdder();
        CountDownLatch usersDone = new CountDownLatch(users);
        Queue live = new Queue();
        for (int u = 0; u < users; u++) {
            new ChurnUser(target, request, message, control, tally, measured, total, usersDone, live).next();
        }
        double seconds = window(control, warmup, measure);
        if (!usersDone.await(15, TimeUnit.SECONDS)) {
            tally.failed("drain timeout");
            drain(new ArrayList<>(live.channels), Duration.ofSeconds(1));
        }
        return new ChurnResult(measured.sum(), seconds, total.sum(), tally.ends());
    }

    private static final class Queue {
        final ConcurrentLinkedQueue<Channel> channels = new ConcurrentLinkedQueue<>();
    }

    private final class ChurnUser {
        private final InetSocketAddress target;
        private final ByteBuf request;
        private final ByteBuf message;
        private final Control control;
        private final Tally tally;
        private final LongAdder measured;
        private final LongAdder total;
        private final CountDownLatch done;
        private final Queue live;

        ChurnUser(InetSocketAddress target, ByteBuf request, ByteBuf message, Control control, Tally tally,
                  LongAdder measured, LongAdder total, CountDownLatch done, Queue live) {
            this.target = target;
            this.request = request;
            this.message = message;
            this.control = control;
            this.tally = tally;
            this.measured = measured;
            this.total = total;
            this.done = done;
            this.live = live;
        }

        void next() {
            if (control.phase == Control.STOP) {
                done.countDown();
                return;
            }
            ClientSession session = new ClientSession(request) {
                @Override
                protected void onOpen() {
                    channel.writeAndFlush(WsWire.share(message), channel.voidPromise());
                }

                @Override
                protected void onData(int opcode, long length) {
                    sendClose(closeFrame);
                }

                @Override
                protected void onClosed() {
                    live.channels.remove(channel);
                    tally.ended(this);
                    if (closeSent && closeReceived && failure == null) {
                        total.increment();
                        if (control.phase == Control.MEASURE) {
                            measured.increment();
                        }
                    }
                    next();
                }
            };
            ChannelFuture f = bootstrap(session).connect(target);
            live.channels.add(f.channel());
            f.addListener(r -> {
                if (!r.isSuccess()) {
                    live.channels.remove(f.channel());
                    tally.failed("connect: " + r.cause().getClass().getSimpleName());
                    group.schedule(this::next, 10, TimeUnit.MILLISECONDS);
                }
            });
        }
    }

    /** Idle sessions held open by {@link #openIdle}; {@link #closeAll} ends them with Close 1000. */
    public final class IdleSessions {
        private final List<IdleSession> sessions;
        private final List<Channel> channels;
        private final Tally tally;
        private final int requested;

        private IdleSessions(int requested, List<IdleSession> sessions, List<Channel> channels, Tally tally) {
            this.requested = requested;
            this.sessions = sessions;
            this.channels = channels;
            this.tally = tally;
        }

        /** Sessions open now (101 read, TCP up). */
        public int open() {
            return (int) sessions.stream().filter(s -> s.channel != null && s.isOpen() && s.channel.isActive()).count();
        }

        public int requested() {
            return requested;
        }

        /** Sends Close 1000 on every open session and waits for all to close; returns what the driver did. */
        public Ends closeAll(Duration timeout) throws InterruptedException {
            for (IdleSession s : sessions) {
                if (s.channel != null) {
                    s.channel.eventLoop().execute(() -> {
                        if (s.isOpen()) {
                            s.sendClose(closeFrame);
                        } else {
                            s.channel.close();
                        }
                    });
                }
            }
            int forced = drainSessions(sessions, channels, timeout);
            if (forced > 0) {
                tally.failed("close timeout x" + forced);
            }
            return tally.ends();
        }
    }

    private final class IdleSession extends ClientSession {
        private final Tally tally;
        private final Runnable openedOrFailed;
        private boolean signalled;

        IdleSession(ByteBuf request, Tally tally, Runnable openedOrFailed) {
            super(request);
            this.tally = tally;
            this.openedOrFailed = openedOrFailed;
        }

        @Override
        protected void onOpen() {
            signal();
        }

        private void signal() {
            if (!signalled) {
                signalled = true;
                openedOrFailed.run();
            }
        }

        @Override
        protected void onClosed() {
            tally.ended(this);
            signal();
        }
    }

    /**
     * Opens {@code count} WebSocket sessions that then stay idle, at most {@code concurrency}
     * handshakes at a time, spreading the client side over the source addresses
     * {@code 127.0.0.2 …} so ephemeral ports never run short.
     */
    public IdleSessions openIdle(InetSocketAddress target, int count, int concurrency, int sourceAddresses,
                                 Duration timeout) throws InterruptedException {
        Tally tally = new Tally();
        ByteBuf request = WsWire.upgradeRequest("/echo", hostPort(target));
        List<IdleSession> sessions = new ArrayList<>(count);
        List<Channel> channels = java.util.Collections.synchronizedList(new ArrayList<>(count));
        AtomicInteger nextIndex = new AtomicInteger();
        CountDownLatch settled = new CountDownLatch(count);
        for (int i = 0; i < count; i++) {
            sessions.add(null);
        }
        Runnable[] launch = new Runnable[1];
        launch[0] = () -> {
            int i = nextIndex.getAndIncrement();
            if (i >= count) {
                return;
            }
            IdleSession s = new IdleSession(request, tally, () -> {
                settled.countDown();
                launch[0].run();
            });
            sessions.set(i, s);
            InetSocketAddress local = new InetSocketAddress("127.0.0." + (2 + i % sourceAddresses), 0);
            ChannelFuture f = bootstrap(s).connect(target, local);
            channels.add(f.channel());
            f.addListener(r -> {
                if (!r.isSuccess()) {
                    tally.failed("connect: " + r.cause().getClass().getSimpleName());
                    settled.countDown();
                    launch[0].run();
                }
            });
        };
        for (int i = 0; i < Math.min(concurrency, count); i++) {
            launch[0].run();
        }
        if (!settled.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            tally.failed("open timeout: " + settled.getCount() + " not settled");
        }
        List<IdleSession> made = sessions.stream().filter(s -> s != null).toList();
        return new IdleSessions(count, made, new ArrayList<>(channels), tally);
    }

    /** The transport in use: {@code epoll} or {@code nio}. */
    public String transport() {
        return epoll ? "epoll" : "nio";
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
