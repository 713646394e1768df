package dev.closewatch.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/** Frames the proxy writes itself (RFC 6455 §5.2): Close and Ping, masked toward the upstream. */
final class ProxyFrames {

    private static final int CLOSE = 0x8;
    private static final int PING = 0x9;
    /** RFC 6455 §5.3: masking keys must be unpredictable, from a strong source of entropy. */
    private static final SecureRandom MASKING_KEYS = new SecureRandom();

    private ProxyFrames() {
    }

    /**
     * A Close frame with a status code and a reason (truncated to fit 125 bytes).
     *
     * @param masked true toward the upstream (a client's frames must be masked, §5.3), with a
     *               fresh random masking key
     */
    static ByteBuf close(ByteBufAllocator alloc, int code, String reason, boolean masked) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, 123);
        byte[] body = new byte[2 + n];
        body[0] = (byte) (code >>> 8);
        body[1] = (byte) code;
        System.arraycopy(text, 0, body, 2, n);
        return frame(alloc, CLOSE, body, masked);
    }

    /** A Ping frame with an 8-byte payload (the send time), toward the client: unmasked. */
    static ByteBuf ping(ByteBufAllocator alloc, long payload) {
        byte[] body = new byte[8];
        for (int i = 0; i < 8; i++) {
            body[i] = (byte) (payload >>> (56 - 8 * i));
        }
        return frame(alloc, PING, body, false);
    }

    private static ByteBuf frame(ByteBufAllocator alloc, int opcode, byte[] payload, boolean masked) {
        ByteBuf out = alloc.buffer(2 + (masked ? 4 : 0) + payload.length);
        out.writeByte(0x80 | opcode);
        out.writeByte((masked ? 0x80 : 0) | payload.length);
        if (!masked) {
            return out.writeBytes(payload);
        }
        int key = MASKING_KEYS.nextInt();
        out.writeInt(key);
        for (int i = 0; i < payload.length; i++) {
            out.writeByte(payload[i] ^ (key >>> (24 - 8 * (i & 3))));
        }
        return out;
    }
}
