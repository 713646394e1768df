package dev.closewatch.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * The read-buffer policy of one relayed channel: Netty's adaptive sizing (64 B to 256 KiB, first
 * guess 2 KiB) unless the relay asks for {@linkplain #smallReads(boolean) small reads}.
 *
 * <p>Small reads serve the zero-copy relay of big frames: while a stream carries frames whose
 * payload is {@linkplain RelayHandler spliced} from socket to socket, each ordinary read should
 * take little more than the next frame header (RFC 6455 §5.2: at most 14 bytes) so that the rest
 * of the payload is spliced rather than copied through the JVM. The size a splice may move per
 * read event is Netty's {@link Handle#guess()}, which stays at the maximum meanwhile.
 *
 * <p>One instance per channel: it remembers the handle it made. Not thread-safe; used on the
 * channel's event loop.
 */
final class RelayRecvAllocator implements RecvByteBufAllocator {

    /** Smallest read buffer of the adaptive policy, bytes. */
    static final int MIN_READ = 64;
    /** First read buffer of the adaptive policy, bytes. */
    static final int INITIAL_READ = 2048;
    /** Largest read buffer, and the most one read event may splice, bytes. */
    static final int MAX_READ = 256 * 1024;
    /** Read buffer size while {@linkplain #smallReads(boolean) small reads} are on, bytes. */
    static final int SMALL_READ = 2048;

    private final AdaptiveRecvByteBufAllocator adaptive = new AdaptiveRecvByteBufAllocator(MIN_READ, INITIAL_READ, MAX_READ);
    private SizedHandle handle;

    @Override
    public Handle newHandle() {
        handle = new SizedHandle((ExtendedHandle) adaptive.newHandle());
        return handle;
    }

    /**
     * Switches small reads on or off for the channel this allocator serves; a no-op before the
     * channel's first read made its handle.
     */
    void smallReads(boolean on) {
        if (handle != null) {
            handle.small = on;
        }
    }

    /** Whether small reads are on. */
    boolean smallReads() {
        return handle != null && handle.small;
    }

    private static final class SizedHandle extends DelegatingHandle implements ExtendedHandle {
        private final ExtendedHandle adaptive;
        private boolean small;

        SizedHandle(ExtendedHandle adaptive) {
            super(adaptive);
            this.adaptive = adaptive;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return small ? alloc.ioBuffer(SMALL_READ) : adaptive.allocate(alloc);
        }

        @Override
        public int guess() {
            return small ? MAX_READ : adaptive.guess();
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return adaptive.continueReading(maybeMoreDataSupplier);
        }
    }
}
