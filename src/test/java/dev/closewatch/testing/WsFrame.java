package dev.closewatch.testing;

/**
 * A frame read off a socket.
 *
 * @param fin     FIN bit
 * @param opcode  4-bit opcode
 * @param payload unmasked payload
 * @param raw     the frame's exact bytes as read (header, masking key, masked payload)
 */
public record WsFrame(boolean fin, int opcode, byte[] payload, byte[] raw) {

    /** The status code of a Close frame, or -1 if the body has none. */
    public int closeCode() {
        return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
    }
}
