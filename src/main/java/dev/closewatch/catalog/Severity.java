package dev.closewatch.catalog;

import java.util.Locale;

/**
 * How bad a session end is; decides the level of the {@code closewatch.close} log line.
 *
 * <ul>
 *   <li>{@link #NORMAL} — expected ends (1000, 1001, 1012): DEBUG by default, configurable.</li>
 *   <li>{@link #CLIENT_ERROR} — an endpoint's complaint about what it received: INFO.</li>
 *   <li>{@link #ABNORMAL} — the connection ended without a proper close (1006, 1015): WARN.</li>
 *   <li>{@link #SERVER_ERROR} — the server side failed (1011, 1014): ERROR.</li>
 * </ul>
 */
public enum Severity {
    NORMAL, CLIENT_ERROR, ABNORMAL, SERVER_ERROR;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The configuration value, e.g. {@code client_error}. */
    public String label() {
        return label;
    }

    /**
     * Parses a configuration value.
     *
     * @throws IllegalArgumentException if {@code label} names no severity
     */
    public static Severity fromLabel(String label) {
        for (Severity s : values()) {
            if (s.label.equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException(
                "severity: '" + label + "' (expected one of: normal, client_error, abnormal, server_error)");
    }
}
