package dev.closewatch.websocket;

import java.util.Locale;

/**
 * Frame opcodes (RFC 6455 §5.2) as counted by the {@code opcode} label; the ten reserved opcodes
 * share {@link #RESERVED} so the label set stays bounded.
 */
public enum Opcode {
    CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG, RESERVED;

    /** Number of constants, for arrays indexed by {@link #ordinal()}. */
    public static final int COUNT = values().length;

    private static final Opcode[] BY_WIRE = new Opcode[16];

    static {
        java.util.Arrays.fill(BY_WIRE, RESERVED);
        BY_WIRE[0x0] = CONTINUATION;
        BY_WIRE[0x1] = TEXT;
        BY_WIRE[0x2] = BINARY;
        BY_WIRE[0x8] = CLOSE;
        BY_WIRE[0x9] = PING;
        BY_WIRE[0xA] = PONG;
    }

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The Prometheus label value. */
    public String label() {
        return label;
    }

    /** The constant for a 4-bit wire opcode (0–15). */
    public static Opcode ofWire(int opcode) {
        return BY_WIRE[opcode & 0x0F];
    }
}
