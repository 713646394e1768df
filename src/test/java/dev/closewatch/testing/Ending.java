package dev.closewatch.testing;

import static dev.closewatch.testing.Frames.CLOSE;
import static dev.closewatch.testing.Frames.TEXT;

import dev.closewatch.websocket.Cause;
import dev.closewatch.websocket.Initiator;
import java.io.IOException;
import java.net.SocketException;
import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * One way a WebSocket session can end, scripted for both peers (a {@link RawClient} and a
 * {@link RawUpstream.Connection}) with the close event closewatch must record for it. Each script
 * runs after the opening handshake, exchanges one data frame each way (payload
 * {@link #payload(int) payload(seq)}, 0–299 bytes so both 7-bit and 16-bit lengths occur) and ends
 * the session its way, reporting the length of every frame its peer receives as it arrives (the
 * proxy's own frames, such as a drain's Close, included: {@code closewatch_bytes_total} counts what
 * an endpoint was sent), so the count is right even when a script fails half-way. Every exchange is acknowledged
 * before a connection ends, so nothing in flight can be lost to a reset; a script that sees
 * anything other than what the ending dictates throws.
 */
public enum Ending {
    /** The client starts the close handshake with 1000; the upstream answers and closes TCP first. */
    CLIENT_CLOSE(1000, Initiator.CLIENT, true, Cause.CLOSE_HANDSHAKE),
    /** The upstream starts the close handshake with 1001; the client answers. */
    UPSTREAM_CLOSE(1001, Initiator.UPSTREAM, true, Cause.CLOSE_HANDSHAKE),
    /**
     * The client sends Close 4001 and half-closes (FIN) while still reading: it must still receive
     * the upstream's answering Close, and the session is clean (issue 10, item 8).
     */
    CLIENT_HALF_CLOSE(4001, Initiator.CLIENT, true, Cause.CLOSE_HANDSHAKE),
    /** The mirror: the upstream sends Close 4002 and half-closes; the client's answer must reach it. */
    UPSTREAM_HALF_CLOSE(4002, Initiator.UPSTREAM, true, Cause.CLOSE_HANDSHAKE),
    /** The client closes TCP (FIN) with no Close frame: 1006. */
    CLIENT_FIN(1006, Initiator.CLIENT, false, Cause.FIN),
    /** The upstream closes TCP (FIN) with no Close frame: 1006. */
    UPSTREAM_FIN(1006, Initiator.UPSTREAM, false, Cause.FIN),
    /** The client resets TCP (RST) with no Close frame: 1006. */
    CLIENT_RST(1006, Initiator.CLIENT, false, Cause.RESET),
    /** The upstream resets TCP (RST) with no Close frame: 1006. */
    UPSTREAM_RST(1006, Initiator.UPSTREAM, false, Cause.RESET),
    /**
     * The proxy drains: both peers get its Close 1012 and answer it (the answers are the proxy's to
     * read, not to relay: they are discarded). The client script waits for the drain after its
     * first exchange.
     */
    DRAIN(1012, Initiator.PROXY, true, Cause.DRAIN);

    /** The status code recorded. */
    public final int code;
    /** Who is recorded as having started the end. */
    public final Initiator initiator;
    /** Whether the close handshake completes. */
    public final boolean clean;
    /** The recorded cause. */
    public final Cause cause;

    Ending(int code, Initiator initiator, boolean clean, Cause cause) {
        this.code = code;
        this.initiator = initiator;
        this.clean = clean;
        this.cause = cause;
    }

    /** The data frame payload of session {@code seq}: {@code seq % 300} bytes. */
    public static byte[] payload(int seq) {
        byte[] p = new byte[seq % 300];
        Arrays.fill(p, (byte) ('a' + seq % 26));
        return p;
    }

    /** The client's local port: what closewatch records as the session's {@code client} address. */
    public static int localPort(RawSocket socket) {
        return socket.socket.getLocalPort();
    }

    /**
     * The client's part, after the 101.
     *
     * @param relaying called once the first exchange went through the proxy both ways
     * @param received given the length of every frame received from the proxy, as it arrives
     */
    public void client(RawClient c, int seq, Runnable relaying, LongConsumer received) throws IOException {
        byte[] payload = payload(seq);
        switch (this) {
            case CLIENT_CLOSE, CLIENT_HALF_CLOSE, CLIENT_FIN, CLIENT_RST, DRAIN -> {
                c.send(true, TEXT, payload);
                received.accept(expect(c.readFrame(), TEXT, payload).raw().length);
            }
            default -> {
                received.accept(expect(c.readFrame(), TEXT, payload).raw().length);
                c.send(true, TEXT, payload);
            }
        }
        relaying.run();
        switch (this) {
            case CLIENT_CLOSE -> {
                c.send(true, CLOSE, Frames.closeBody(code, "bye"));
                received.accept(expectClose(c.readFrame(), code).raw().length);
                expectEnd(c);
            }
            case CLIENT_HALF_CLOSE -> {
                c.send(true, CLOSE, Frames.closeBody(code, "half"));
                c.socket.shutdownOutput();
                received.accept(expectClose(c.readFrame(), code).raw().length);
                expectEnd(c);
            }
            case UPSTREAM_CLOSE, UPSTREAM_HALF_CLOSE -> {
                WsFrame close = expectClose(c.readFrame(), code);
                received.accept(close.raw().length);
                c.send(true, CLOSE, close.payload());
                expectEnd(c);
            }
            case DRAIN -> {
                WsFrame close = expectClose(c.readFrame(), code); // the proxy's own
                received.accept(close.raw().length);
                c.send(true, CLOSE, close.payload());
                expectEnd(c);
            }
            case CLIENT_FIN -> c.close();
            case CLIENT_RST -> c.reset();
            case UPSTREAM_FIN, UPSTREAM_RST -> expectEnd(c);
            default -> throw new IllegalStateException(name());
        }
    }

    /**
     * The upstream's part, after it answered 101.
     *
     * @param received given the length of every frame received from the proxy, as it arrives
     */
    public void upstream(RawUpstream.Connection u, int seq, LongConsumer received) throws IOException {
        byte[] payload = payload(seq);
        switch (this) {
            case CLIENT_CLOSE, CLIENT_HALF_CLOSE -> {
                received.accept(expect(u.readFrame(), TEXT, payload).raw().length);
                u.send(true, TEXT, payload);
                WsFrame close = expectClose(u.readFrame(), code);
                received.accept(close.raw().length);
                u.send(true, CLOSE, close.payload());
            }
            case CLIENT_FIN, CLIENT_RST -> {
                received.accept(expect(u.readFrame(), TEXT, payload).raw().length);
                u.send(true, TEXT, payload);
                expectEnd(u);
            }
            case DRAIN -> {
                received.accept(expect(u.readFrame(), TEXT, payload).raw().length);
                u.send(true, TEXT, payload);
                WsFrame close = expectClose(u.readFrame(), code); // the proxy's own, masked
                received.accept(close.raw().length);
                u.send(true, CLOSE, close.payload());
            }
            default -> {
                u.send(true, TEXT, payload);
                received.accept(expect(u.readFrame(), TEXT, payload).raw().length);
                switch (this) {
                    case UPSTREAM_CLOSE -> {
                        u.send(true, CLOSE, Frames.closeBody(code, "bye"));
                        received.accept(expectClose(u.readFrame(), code).raw().length);
                    }
                    case UPSTREAM_HALF_CLOSE -> {
                        u.send(true, CLOSE, Frames.closeBody(code, "half"));
                        u.socket.shutdownOutput();
                        received.accept(expectClose(u.readFrame(), code).raw().length);
                        expectEnd(u);
                    }
                    case UPSTREAM_RST -> u.reset();
                    default -> {
                        // UPSTREAM_FIN: the connection closes (FIN) when the script returns
                    }
                }
            }
        }
    }

    private static WsFrame expect(WsFrame f, int opcode, byte[] payload) {
        if (f.opcode() != opcode || !Arrays.equals(f.payload(), payload)) {
            throw new AssertionError("expected opcode " + opcode + " with " + payload.length + " bytes, got opcode "
                    + f.opcode() + " with " + f.payload().length + " bytes");
        }
        return f;
    }

    private static WsFrame expectClose(WsFrame f, int code) {
        if (f.opcode() != CLOSE || f.closeCode() != code) {
            throw new AssertionError("expected Close " + code + ", got opcode " + f.opcode() + " code " + f.closeCode());
        }
        return f;
    }

    /** The peer's next read must be the end of the stream: an orderly FIN, nothing more. */
    private static void expectEnd(RawSocket s) throws IOException {
        int b;
        try {
            b = s.input().read();
        } catch (SocketException e) {
            throw new AssertionError("expected the proxy's FIN, got " + e);
        }
        if (b >= 0) {
            throw new AssertionError("expected the proxy's FIN, got more bytes (first 0x" + Integer.toHexString(b) + ")");
        }
    }
}
