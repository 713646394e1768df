package dev.closewatch.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector (run at {@code paranoid} by Surefire) reports a
 * leaked buffer. Registered for every test class through JUnit's extension auto-detection
 * ({@code META-INF/services}); after each class it forces a GC and enough tracked allocations
 * for the detector to report what the GC found.
 */
public final class LeakDetectionExtension implements AfterAllCallback {

    private static final Queue<String> LEAKS = new ConcurrentLinkedQueue<>();

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        provokeReports();
        if (!LEAKS.isEmpty()) {
            List<String> leaks = new ArrayList<>(LEAKS);
            LEAKS.clear();
            throw new AssertionError(leaks.size() + " Netty buffer leak(s) reported after "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }

    /**
     * Collects garbage and allocates enough tracked buffers for the detector to report every leak
     * the collection found; returns how many leak reports are pending (they still fail the class).
     */
    public static int collectLeakReports() {
        provokeReports();
        return LEAKS.size();
    }

    private static void provokeReports() {
        for (int round = 0; round < 3; round++) {
            // Wait for a real collection: a weakly held canary is gone only after one.
            java.lang.ref.WeakReference<Object> canary = new java.lang.ref.WeakReference<>(new Object());
            while (canary.get() != null) {
                System.gc();
            }
            List<ByteBuf> bufs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                bufs.add(ByteBufAllocator.DEFAULT.directBuffer(16));
                bufs.add(ByteBufAllocator.DEFAULT.heapBuffer(16));
            }
            bufs.forEach(ByteBuf::release);
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        @SuppressWarnings("deprecation")
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
            return new ResourceLeakDetector<T>(resource, samplingInterval, maxActive) {
                @Override
                protected void reportTracedLeak(String resourceType, String records) {
                    LEAKS.add("LEAK: " + resourceType + records);
                    super.reportTracedLeak(resourceType, records);
                }

                @Override
                protected void reportUntracedLeak(String resourceType) {
                    LEAKS.add("LEAK: " + resourceType + " (untraced)");
                    super.reportUntracedLeak(resourceType);
                }
            };
        }
    }
}
