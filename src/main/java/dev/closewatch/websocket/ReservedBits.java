package dev.closewatch.websocket;

import java.util.Locale;

/**
 * The RSV1–3 bits (RFC 6455 §5.2) a session's negotiated extensions may set, as bits of a frame
 * header's first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3). A set bit outside them is a
 * {@link Violation#RESERVED_BITS}.
 *
 * @param firstDataFrame bits allowed on the first frame of a text or binary message
 * @param otherFrames    bits allowed on continuation and control frames
 */
public record ReservedBits(int firstDataFrame, int otherFrames) {

    /** No extension: every RSV bit must be 0 (§5.2). */
    public static final ReservedBits NONE = new ReservedBits(0, 0);
    /** permessage-deflate (RFC 7692 §6): RSV1 on a message's first frame only (§6.1). */
    public static final ReservedBits PERMESSAGE_DEFLATE = new ReservedBits(0x40, 0);
    /** An extension closewatch does not know may define any RSV bit on any frame: none is flagged. */
    public static final ReservedBits ANY = new ReservedBits(0x70, 0x70);

    private static final int RSV = 0x70;

    public ReservedBits {
        if ((firstDataFrame & ~RSV) != 0 || (otherFrames & ~RSV) != 0) {
            throw new IllegalArgumentException("RSV bits: 0x%x, 0x%x (expected: within 0x70)"
                    .formatted(firstDataFrame, otherFrames));
        }
    }

    /**
     * What the 101's {@code Sec-WebSocket-Extensions} value (RFC 6455 §9.1) allows: {@link #NONE}
     * for null or no extension, {@link #PERMESSAGE_DEFLATE} when every extension named is
     * {@code permessage-deflate}, else {@link #ANY} (an unknown extension may use any RSV bit, and
     * flagging its frames would be a false alarm).
     */
    public static ReservedBits forExtensions(String secWebSocketExtensions) {
        if (secWebSocketExtensions == null) {
            return NONE;
        }
        boolean any = false;
        boolean unknown = false;
        for (String element : splitOutsideQuotes(secWebSocketExtensions)) {
            int semicolon = element.indexOf(';');
            String name = (semicolon < 0 ? element : element.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty()) {
                continue;
            }
            any = true;
            if (!name.equals("permessage-deflate")) {
                unknown = true;
            }
        }
        return !any ? NONE : unknown ? ANY : PERMESSAGE_DEFLATE;
    }

    /** The comma-separated elements of an extension list; a comma inside a quoted-string parameter value does not split. */
    private static java.util.List<String> splitOutsideQuotes(String value) {
        java.util.List<String> out = new java.util.ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '\\' && quoted) {
                i++;
            } else if (c == ',' && !quoted) {
                out.add(value.substring(start, i));
                start = i + 1;
            }
        }
        out.add(value.substring(start));
        return out;
    }
}
