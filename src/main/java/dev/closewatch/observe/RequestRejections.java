package dev.closewatch.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Requests the proxy answered itself before any upstream was involved:
 * {@code closewatch_requests_rejected_total{reason}} (no {@code route} label: some are rejected
 * before a route is known). Counters are created once, one per {@link Reason}.
 */
public final class RequestRejections {

    /** Why a request was answered by the proxy; the {@code reason} label. */
    public enum Reason {
        /** 400: not parseable as HTTP/1.1. */
        MALFORMED(400),
        /** 414: request line over {@code limits.max_initial_line_length}. */
        URI_TOO_LONG(414),
        /** 431: header block over {@code limits.max_header_size}. */
        HEADER_TOO_LARGE(431),
        /** 408: no complete request head within {@code limits.handshake_timeout}. */
        HANDSHAKE_TIMEOUT(408),
        /** 503: {@code limits.max_connections} client connections already open. */
        MAX_CONNECTIONS(503),
        /** 503: the proxy is draining for shutdown. */
        DRAINING(503),
        /** 404: no route matches the path and Host header. */
        NO_ROUTE(404),
        /** 421: a keep-alive request for another route than the connection's. */
        MISDIRECTED(421);

        private final int status;
        private final String label = name().toLowerCase(Locale.ROOT);

        Reason(int status) {
            this.status = status;
        }

        /** The HTTP status answered. */
        public int status() {
            return status;
        }

        /** The Prometheus label value. */
        public String label() {
            return label;
        }
    }

    /** Meter name; rendered {@code closewatch_requests_rejected_total}. */
    public static final String NAME = "closewatch.requests.rejected";

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);

    public RequestRejections(MeterRegistry registry) {
        for (Reason r : Reason.values()) {
            counters.put(r, Counter.builder(NAME)
                    .description("Requests answered by the proxy itself (4xx/5xx) before reaching an upstream")
                    .tag("reason", r.label()).register(registry));
        }
    }

    /** Counts one rejection. */
    public void rejected(Reason reason) {
        counters.get(reason).increment();
    }
}
