package dev.closewatch.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Requests the proxy answered itself: {@code closewatch_requests_rejected_total{reason}} (no
 * {@code route} label: some are rejected before a route is known), and keep-alive connections it
 * closed for idling between requests: {@code closewatch_keepalive_timeouts_total}. Counters are
 * created once, one per {@link Reason}.
 */
public final class RequestRejections {

    /** Why a request was answered by the proxy; the {@code reason} label. */
    public enum Reason {
        /**
         * 400: not parseable as HTTP/1.1 (RFC 9112), in the head or in the body (a bad chunk, a
         * Content-Length and Transfer-Encoding together, a final transfer coding other than chunked).
         */
        MALFORMED(400),
        /** 400: an HTTP/1.1 request without a Host header, or any request with several (RFC 9112 §3.2). */
        INVALID_HOST(400),
        /**
         * 400: a WebSocket upgrade request that cannot be one: on HTTP/1.0, with a body, or followed
         * by bytes or requests before the upstream answered (RFC 6455 §4.1).
         */
        INVALID_UPGRADE(400),
        /** 505: an HTTP major version other than 1, such as {@code HTTP/2.0} or the HTTP/2 preface (RFC 9110 §15.6.6). */
        VERSION_NOT_SUPPORTED(505),
        /** 414: request line over {@code limits.max_initial_line_length}. */
        URI_TOO_LONG(414),
        /** 431: header block over {@code limits.max_header_size}. */
        HEADER_TOO_LARGE(431),
        /** 408: no complete request head within {@code limits.handshake_timeout} (of accept, or of the request's first byte). */
        HANDSHAKE_TIMEOUT(408),
        /** 503: {@code limits.max_connections} client connections already open. */
        MAX_CONNECTIONS(503),
        /** 503: the proxy is draining for shutdown. */
        DRAINING(503),
        /** 404: no route matches the path and Host header. */
        NO_ROUTE(404),
        /** 421: a keep-alive request for another route than the connection's. */
        MISDIRECTED(421),
        /**
         * No answer (status 0): {@code proxy_protocol} is on and the connection did not start with a
         * valid PROXY protocol v1 or v2 header; it is closed at once, as the specification requires.
         */
        PROXY_PROTOCOL(0);

        private final int status;
        private final String label = name().toLowerCase(Locale.ROOT);

        Reason(int status) {
            this.status = status;
        }

        /** The HTTP status answered; 0 when the connection is closed without an answer. */
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

    /** Meter name; rendered {@code closewatch_keepalive_timeouts_total}. */
    public static final String KEEPALIVE_TIMEOUTS = "closewatch.keepalive.timeouts";

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);
    private final Counter keepaliveTimeouts;

    public RequestRejections(MeterRegistry registry) {
        for (Reason r : Reason.values()) {
            counters.put(r, Counter.builder(NAME)
                    .description("Requests answered by the proxy itself (4xx/5xx) before reaching an upstream")
                    .tag("reason", r.label()).register(registry));
        }
        keepaliveTimeouts = Counter.builder(KEEPALIVE_TIMEOUTS)
                .description("Keep-alive client connections closed, without an answer, after limits.keepalive_timeout "
                        + "without a next request")
                .register(registry);
    }

    /** Counts one rejection. */
    public void rejected(Reason reason) {
        counters.get(reason).increment();
    }

    /** Counts one keep-alive connection closed for idling past {@code limits.keepalive_timeout}. */
    public void keepaliveTimedOut() {
        keepaliveTimeouts.increment();
    }
}
