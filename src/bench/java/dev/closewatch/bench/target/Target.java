package dev.closewatch.bench.target;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Where the load driver connects: the upstream itself ({@code direct}) or a proxy in front of it.
 * A proxy target names the processes whose memory and CPU are the proxy's.
 */
public interface Target extends AutoCloseable {

    /** {@code direct}, {@code closewatch} or {@code nginx}. */
    String name();

    /** The address clients connect to. */
    InetSocketAddress address();

    /** The proxy's processes (for nginx: master and workers); empty for {@code direct}. */
    List<Long> pids();

    /**
     * Session ends the proxy recorded so far, as {@code "code/initiator" → count}; null if the
     * target records none (only closewatch does).
     */
    default Map<String, Long> recordedCloses() {
        return null;
    }

    /** Asks the proxy's runtime to collect garbage before a memory reading; no-op where there is none. */
    default void collectGarbage() {
    }

    /** Extra memory figures from the proxy's own metrics (bytes), e.g. Netty direct memory; may be empty. */
    default Map<String, Double> memoryMetrics() {
        return Map.of();
    }

    @Override
    void close();
}
