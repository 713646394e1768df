package dev.closewatch.testing;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An unpooled allocator that remembers every buffer it hands out, so a test can assert that all
 * of them were released at a point it chooses ({@link #assertAllReleased}), input by input, rather
 * than waiting for the leak detector to notice a collected buffer at the end of the class. Set it
 * on a channel with {@code channel.config().setAllocator(...)}: decoders allocate through
 * {@code ctx.alloc()}.
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> allocated = new ArrayList<>();

    public TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        ByteBuf buf = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        allocated.add(buf);
        return buf;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        ByteBuf buf = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
        allocated.add(buf);
        return buf;
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** Buffers allocated so far. */
    public int allocations() {
        return allocated.size();
    }

    /**
     * Throws an {@link AssertionError} naming the first buffer still referenced.
     *
     * @param what says whose buffers these are, for the message
     */
    public void assertAllReleased(String what) {
        int live = 0;
        ByteBuf first = null;
        for (ByteBuf buf : allocated) {
            if (buf.refCnt() != 0) {
                live++;
                if (first == null) {
                    first = buf;
                }
            }
        }
        if (live > 0) {
            throw new AssertionError(live + " of " + allocated.size() + " buffers allocated by " + what
                    + " still referenced, e.g. " + first + " refCnt " + first.refCnt());
        }
    }
}
