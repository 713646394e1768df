package dev.closewatch.bench.jmh;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.FrameObserver;
import dev.closewatch.websocket.Violation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The relay's per-frame cost: {@link FrameObserver#observe(ByteBuf)} over data frames (RFC 6455
 * §5.2) as the event loop hands them over, in direct buffers from Netty's default allocator.
 *
 * <p>One operation is one frame ({@value #FRAMES} frames per invocation), so the score is
 * nanoseconds per frame and the gc profiler's {@code gc.alloc.rate.norm} is bytes allocated per
 * frame. Parameters:
 * <ul>
 *   <li>{@code size}: payload of {@code small} (125 B, the largest 7-bit length), {@code medium}
 *       (4 KiB, 16-bit length) or {@code large} (64 KiB, 64-bit length);</li>
 *   <li>{@code masked}: client-to-upstream frames carry a masking key (§5.3), observed as
 *       {@link Direction#CLIENT_TO_UPSTREAM}; unmasked ones as {@link Direction#UPSTREAM_TO_CLIENT},
 *       so no violation is ever reported;</li>
 *   <li>{@code feed}: {@code whole} hands each frame over as its own buffer (one read per frame);
 *       {@code split61} hands the same byte stream over in 61-byte reads, so headers straddle
 *       reads at every offset and a frame costs many calls.</li>
 * </ul>
 * The batch ends with {@link FrameObserver#drainCounts(FrameObserver.CountSink)}, as the relay
 * does once per read batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class FrameObserverBench {

    /** Frames per invocation; the {@link OperationsPerInvocation} of every benchmark. */
    public static final int FRAMES = 64;
    /** Read size of the {@code split61} feed: prime, so frame boundaries fall at every offset. */
    public static final int SPLIT = 61;

    @Param({"small", "medium", "large"})
    public String size;

    @Param({"true", "false"})
    public boolean masked;

    @Param({"whole", "split61"})
    public String feed;

    private ByteBuf[] reads;
    private FrameObserver observer;
    private final CountingListener listener = new CountingListener();
    private long sinkBytes;
    private final FrameObserver.CountSink sink = (direction, frameCounts, bytes) -> sinkBytes += bytes;

    /** Payload bytes of a frame of {@code size}. */
    public static int payloadBytes(String size) {
        return switch (size) {
            case "small" -> 125;
            case "medium" -> 4096;
            case "large" -> 65536;
            default -> throw new IllegalArgumentException("size: " + size + " (expected: small, medium or large)");
        };
    }

    /** Bytes on the wire of one frame: header, masking key and payload. */
    public static int wireBytes(String size, boolean masked) {
        int payload = payloadBytes(size);
        int header = 2 + (payload <= 125 ? 0 : payload <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
        return header + payload;
    }

    @Setup(Level.Trial)
    public void setUp() {
        int payload = payloadBytes(size);
        int wire = wireBytes(size, masked);
        byte[] stream = new byte[wire * FRAMES];
        for (int f = 0; f < FRAMES; f++) {
            writeFrame(stream, f * wire, payload, masked, f);
        }
        List<ByteBuf> list = new ArrayList<>();
        int step = "whole".equals(feed) ? wire : "split61".equals(feed) ? SPLIT : -1;
        if (step < 0) {
            throw new IllegalArgumentException("feed: " + feed + " (expected: whole or split61)");
        }
        for (int off = 0; off < stream.length; off += step) {
            int n = Math.min(step, stream.length - off);
            ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(n, n);
            buf.writeBytes(stream, off, n);
            list.add(buf);
        }
        reads = list.toArray(new ByteBuf[0]);
        Direction direction = masked ? Direction.CLIENT_TO_UPSTREAM : Direction.UPSTREAM_TO_CLIENT;
        observer = new FrameObserver(direction, CloseCatalog.loadDefault(), listener);
    }

    private static void writeFrame(byte[] out, int at, int payload, boolean masked, int seed) {
        int p = at;
        out[p++] = (byte) 0x82; // FIN, binary
        int maskBit = masked ? 0x80 : 0;
        if (payload <= 125) {
            out[p++] = (byte) (maskBit | payload);
        } else if (payload <= 0xFFFF) {
            out[p++] = (byte) (maskBit | 126);
            out[p++] = (byte) (payload >>> 8);
            out[p++] = (byte) payload;
        } else {
            out[p++] = (byte) (maskBit | 127);
            for (int k = 7; k >= 0; k--) {
                out[p++] = (byte) ((long) payload >>> (8 * k));
            }
        }
        int key = 0x5A3C_96E1 ^ seed * 0x9E37_79B9;
        if (masked) {
            for (int k = 3; k >= 0; k--) {
                out[p++] = (byte) (key >>> (8 * k));
            }
        }
        for (int k = 0; k < payload; k++) {
            byte b = (byte) ('a' + (k + seed) % 26);
            out[p++] = masked ? (byte) (b ^ (key >>> (24 - 8 * (k & 3)))) : b;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (ByteBuf buf : reads) {
            buf.release();
        }
        if (listener.violations != 0 || listener.closes != 0) {
            throw new IllegalStateException("observer reported " + listener.violations + " violations and "
                    + listener.closes + " Close frames on a stream of well-formed data frames");
        }
    }

    /** Observes {@value #FRAMES} frames; the score is per frame. */
    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public long observe() {
        for (ByteBuf read : reads) {
            observer.observe(read);
        }
        observer.drainCounts(sink);
        return sinkBytes;
    }

    private static final class CountingListener implements FrameObserver.Listener {
        long violations;
        long closes;

        @Override
        public void onCloseFrame(Direction direction, int code, CloseCode classification, String reason) {
            closes++;
        }

        @Override
        public void onViolation(Direction direction, Violation violation) {
            violations++;
        }
    }
}
