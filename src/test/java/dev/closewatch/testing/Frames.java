package dev.closewatch.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/** Builds RFC 6455 §5.2 frames byte by byte, independently of Netty's codec. */
public final class Frames {

    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    private Frames() {
    }

    /** A client frame: masked with a random masking key (§5.3). */
    public static byte[] masked(boolean fin, int opcode, byte[] payload) {
        return frame(fin, opcode, payload, ThreadLocalRandom.current().nextInt());
    }

    /** A server frame: unmasked. */
    public static byte[] unmasked(boolean fin, int opcode, byte[] payload) {
        return frame(fin, opcode, payload, null);
    }

    /** A frame; {@code maskingKey} null for none. */
    public static byte[] frame(boolean fin, int opcode, byte[] payload, Integer maskingKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
        out.write((fin ? 0x80 : 0) | opcode);
        int mask = maskingKey != null ? 0x80 : 0;
        if (payload.length < 126) {
            out.write(mask | payload.length);
        } else if (payload.length < 65536) {
            out.write(mask | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length);
        } else {
            out.write(mask | 127);
            long len = payload.length;
            for (int i = 7; i >= 0; i--) {
                out.write((int) (len >>> (8 * i)));
            }
        }
        if (maskingKey == null) {
            out.writeBytes(payload);
        } else {
            byte[] key = {(byte) (maskingKey >>> 24), (byte) (maskingKey >>> 16), (byte) (maskingKey >>> 8),
                (byte) (int) maskingKey};
            out.writeBytes(key);
            for (int i = 0; i < payload.length; i++) {
                out.write(payload[i] ^ key[i & 3]);
            }
        }
        return out.toByteArray();
    }

    /** A Close frame body: 2-byte status code and UTF-8 reason (§5.5.1). */
    public static byte[] closeBody(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[2 + r.length];
        body[0] = (byte) (code >>> 8);
        body[1] = (byte) code;
        System.arraycopy(r, 0, body, 2, r.length);
        return body;
    }

    /** Removes the masking of a client frame's payload in place (§5.3). */
    public static byte[] unmask(byte[] payload, byte[] key) {
        byte[] out = payload.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] ^= key[i & 3];
        }
        return out;
    }
}
