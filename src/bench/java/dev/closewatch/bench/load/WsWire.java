package dev.closewatch.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The bytes the load driver and the bench upstream put on the wire (RFC 6455): the opening
 * handshake and pre-built frames. Pre-built frames are read-only and shared: hand out
 * {@link #share(ByteBuf)} copies, whose release is a no-op.
 */
public final class WsWire {

    /** The Sec-WebSocket-Key the driver sends (RFC 6455 §1.3's sample nonce). */
    public static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** Close status code 1000 Normal Closure (§7.4.1). */
    public static final int NORMAL_CLOSURE = 1000;

    static final int OP_CONTINUATION = 0x0;
    static final int OP_TEXT = 0x1;
    static final int OP_BINARY = 0x2;
    static final int OP_CLOSE = 0x8;
    static final int OP_PING = 0x9;
    static final int OP_PONG = 0xA;

    private WsWire() {
    }

    /** The client's opening handshake for {@code path} on {@code hostPort}. */
    public static ByteBuf upgradeRequest(String path, String hostPort) {
        String request = "GET " + path + " HTTP/1.1\r\n"
                + "Host: " + hostPort + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "\r\n";
        return readOnly(request.getBytes(StandardCharsets.US_ASCII));
    }

    /** The server's 101 answer to a request carrying {@code key}. */
    static byte[] switchingProtocols(String key) {
        return ("HTTP/1.1 101 Switching Protocols\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept(key) + "\r\n"
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Sec-WebSocket-Accept for {@code key} (§4.2.2). */
    static String accept(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }

    /**
     * One complete frame with FIN set. A {@code maskingKey} of {@code null} makes a server frame;
     * otherwise the payload is masked with it (§5.3).
     */
    static byte[] frame(int opcode, byte[] payload, byte[] maskingKey) {
        int len = payload.length;
        int header = 2 + (len <= 125 ? 0 : len <= 0xFFFF ? 2 : 8) + (maskingKey != null ? 4 : 0);
        byte[] out = new byte[header + len];
        int p = 0;
        out[p++] = (byte) (0x80 | opcode);
        int maskBit = maskingKey != null ? 0x80 : 0;
        if (len <= 125) {
            out[p++] = (byte) (maskBit | len);
        } else if (len <= 0xFFFF) {
            out[p++] = (byte) (maskBit | 126);
            out[p++] = (byte) (len >>> 8);
            out[p++] = (byte) len;
        } else {
            out[p++] = (byte) (maskBit | 127);
            for (int k = 7; k >= 0; k--) {
                out[p++] = (byte) ((long) len >>> (8 * k));
            }
        }
        if (maskingKey != null) {
            System.arraycopy(maskingKey, 0, out, p, 4);
            p += 4;
        }
        for (int k = 0; k < len; k++) {
            out[p + k] = maskingKey != null ? (byte) (payload[k] ^ maskingKey[k & 3]) : payload[k];
        }
        return out;
    }

    /** A Close frame payload: the status code, big-endian (§5.5.1). */
    static byte[] closePayload(int code) {
        return new byte[] {(byte) (code >>> 8), (byte) code};
    }

    /** {@code n} bytes of printable ASCII (valid UTF-8 for text frames). */
    static byte[] ascii(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    /** A direct, read-only, never-freed buffer holding {@code bytes}; write {@link #share(ByteBuf)}s of it. */
    static ByteBuf readOnly(byte[] bytes) {
        // A JDK direct buffer, freed by the GC: no reference count to manage, nothing for the
        // leak detector to report when a run's shared frames are dropped.
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length);
        direct.put(bytes).flip();
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct));
    }

    /** A view of a {@link #readOnly(byte[])} buffer with its own indices, safe to write from any thread. */
    static ByteBuf share(ByteBuf readOnly) {
        return readOnly.duplicate();
    }
}
