package dev.closewatch.catalog;

import java.util.Locale;

/**
 * The bounded set of close categories used as the {@code category} label of
 * {@code closewatch_closes_total} and {@code closewatch_session_duration_seconds}.
 *
 * <p>One category per status code defined in RFC 6455 §7.4.1 and the IANA registry, plus
 * {@link #REGISTERED} (3000–3999), {@link #PRIVATE} (4000–4999) and {@link #INVALID}
 * (anything that must not appear in a Close frame).
 */
public enum Category {
    NORMAL, GOING_AWAY, PROTOCOL_ERROR, UNSUPPORTED_DATA, NO_STATUS, ABNORMAL, INVALID_PAYLOAD,
    POLICY_VIOLATION, MESSAGE_TOO_BIG, MANDATORY_EXTENSION, INTERNAL_ERROR, SERVICE_RESTART,
    TRY_AGAIN_LATER, BAD_GATEWAY, TLS_HANDSHAKE, REGISTERED, PRIVATE, INVALID;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The Prometheus label value, e.g. {@code going_away}. */
    public String label() {
        return label;
    }

    /**
     * Parses a label value.
     *
     * @throws IllegalArgumentException if {@code label} names no category
     */
    public static Category fromLabel(String label) {
        for (Category c : values()) {
            if (c.label.equals(label)) {
                return c;
            }
        }
        throw new IllegalArgumentException("category: '" + label + "' (expected one of: " + labels() + ")");
    }

    static String labels() {
        StringBuilder sb = new StringBuilder();
        for (Category c : values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(c.label);
        }
        return sb.toString();
    }
}
