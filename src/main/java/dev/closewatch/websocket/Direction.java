package dev.closewatch.websocket;

/**
 * Which way bytes travel through the proxy; the {@code direction} label on frame, byte and
 * protocol-violation counters.
 */
public enum Direction {
    /** Frames the client sends; RFC 6455 §5.3 requires them to be masked. */
    CLIENT_TO_UPSTREAM("client_to_upstream", Initiator.CLIENT),
    /** Frames the upstream (server) sends; RFC 6455 §5.1 forbids masking them. */
    UPSTREAM_TO_CLIENT("upstream_to_client", Initiator.UPSTREAM);

    private final String label;
    private final Initiator sender;

    Direction(String label, Initiator sender) {
        this.label = label;
        this.sender = sender;
    }

    /** The Prometheus label value. */
    public String label() {
        return label;
    }

    /** The endpoint whose frames travel this way. */
    public Initiator sender() {
        return sender;
    }
}
