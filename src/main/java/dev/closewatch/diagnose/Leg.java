package dev.closewatch.diagnose;

import dev.closewatch.websocket.Initiator;

/** Which side of closewatch a session's TCP connection was cut on: a bounded metric label. */
public enum Leg {
    /** Between the clients and closewatch. */
    CLIENT("client", "between the clients and closewatch"),
    /** Between closewatch and the upstream. */
    UPSTREAM("upstream", "between closewatch and the upstream");

    private final String label;
    private final String where;

    Leg(String label, String where) {
        this.label = label;
        this.where = where;
    }

    /** The {@code leg} label value. */
    public String label() {
        return label;
    }

    /** Where an intermediary on this leg sits, in words. */
    String where() {
        return where;
    }

    /** The leg of an end whose first TCP close came from {@code side}; null for the proxy. */
    static Leg of(Initiator side) {
        return switch (side) {
            case CLIENT -> CLIENT;
            case UPSTREAM -> UPSTREAM;
            case PROXY -> null;
        };
    }
}
