package dev.closewatch.websocket;

import java.util.Locale;

/**
 * Who ended a session: the endpoint that sent the first Close frame, or — when no Close frame
 * was seen — the side whose TCP connection went first. The {@code initiator} label.
 */
public enum Initiator {
    CLIENT, UPSTREAM, PROXY;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The Prometheus label value. */
    public String label() {
        return label;
    }
}
