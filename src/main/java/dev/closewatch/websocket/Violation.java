package dev.closewatch.websocket;

import java.util.Locale;

/**
 * RFC 6455 rules a passing frame broke; the {@code violation} label of
 * {@code closewatch_protocol_violations_total}. The proxy reports them and relays the bytes
 * unchanged: failing the connection (§7.1.7) is the receiving endpoint's duty, and a transparent
 * relay that cut it would hide from the endpoints which side broke the rule.
 */
public enum Violation {
    /** Opcode 0x3–0x7 or 0xB–0xF (§5.2). */
    RESERVED_OPCODE,
    /** A control frame with FIN clear (§5.5: control frames MUST NOT be fragmented). */
    FRAGMENTED_CONTROL_FRAME,
    /** A control frame with a payload over 125 bytes (§5.5). */
    CONTROL_FRAME_TOO_BIG,
    /** A Close frame whose payload is 1 byte: no room for a status code (§5.5.1). */
    INVALID_CLOSE_PAYLOAD_LENGTH,
    /** A status code that must not be sent: 0–999, 1004–1006, 1015, 1016–2999, ≥ 5000 (§7.4). */
    INVALID_CLOSE_CODE,
    /** A close reason that is not valid UTF-8 (§5.5.1). */
    INVALID_CLOSE_REASON,
    /** A client frame without a masking key (§5.3). */
    UNMASKED_CLIENT_FRAME,
    /** A server frame with a masking key (§5.1). */
    MASKED_SERVER_FRAME,
    /** A continuation frame with no fragmented message in progress (§5.4). */
    UNEXPECTED_CONTINUATION,
    /** A new text or binary frame while a fragmented message is in progress (§5.4). */
    EXPECTED_CONTINUATION,
    /** A 64-bit payload length with the most significant bit set (§5.2). */
    INVALID_PAYLOAD_LENGTH,
    /**
     * A payload length not in its minimal encoding (§5.2: "the minimal number of bytes MUST be
     * used to encode the length"): the 16-bit form (7-bit field 126) holding less than 126, or the
     * 64-bit form (127) holding less than 65536. A 64-bit length with its most significant bit
     * set is an {@link #INVALID_PAYLOAD_LENGTH} instead.
     */
    NON_MINIMAL_LENGTH,
    /** A data frame after the sender's own Close frame (§5.5.1). */
    FRAME_AFTER_CLOSE,
    /**
     * RSV1, RSV2 or RSV3 set where no negotiated extension allows it (§5.2): any with no
     * extension; with permessage-deflate only RSV1 on a message's first frame (RFC 7692 §6.1);
     * with an extension closewatch does not know, never flagged.
     */
    RESERVED_BITS;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The Prometheus label value. */
    public String label() {
        return label;
    }
}
