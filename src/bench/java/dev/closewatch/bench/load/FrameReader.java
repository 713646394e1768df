package dev.closewatch.bench.load;

import io.netty.buffer.ByteBuf;

/**
 * The driver's incremental reader of RFC 6455 §5.2 frames: survives headers split across reads,
 * skips payloads by length without copying, and keeps only a Close frame's status code. A copy
 * of the idea of the proxy's frame observer, written separately so the driver does not measure
 * with the code under test.
 */
final class FrameReader {

    /** Receives each frame once its last payload byte has been read. */
    interface Listener {
        /**
         * @param opcode    the frame's opcode
         * @param length    payload bytes
         * @param closeCode for a Close frame with a body, its status code; else -1
         */
        void onFrame(int opcode, long length, int closeCode);
    }

    private final byte[] header = new byte[14];
    private int headerLength;
    private int headerNeeded = 2;
    private long remaining;
    private long length;
    private int opcode;
    private boolean masked;
    private final byte[] maskingKey = new byte[4];
    private long offset;
    private int closeCode;

    /** Reads the readable bytes of {@code buf} without moving its indices. */
    void read(ByteBuf buf, Listener listener) {
        int i = buf.readerIndex();
        final int end = buf.writerIndex();
        while (i < end) {
            if (remaining > 0) {
                int n = (int) Math.min(remaining, end - i);
                if (opcode == WsWire.OP_CLOSE) {
                    for (int k = 0; k < n && offset + k < 2; k++) {
                        int b = buf.getByte(i + k) ^ (masked ? maskingKey[(int) ((offset + k) & 3)] : 0);
                        closeCode = (closeCode << 8) | (b & 0xFF);
                    }
                }
                offset += n;
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    complete(listener);
                }
                continue;
            }
            header[headerLength++] = buf.getByte(i++);
            if (headerLength == 2) {
                int len7 = header[1] & 0x7F;
                headerNeeded = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header[1] & 0x80) != 0 ? 4 : 0);
            }
            if (headerLength == headerNeeded) {
                startFrame();
                if (remaining == 0) {
                    complete(listener);
                }
            }
        }
    }

    private void startFrame() {
        opcode = header[0] & 0x0F;
        masked = (header[1] & 0x80) != 0;
        int len7 = header[1] & 0x7F;
        int p = 2;
        if (len7 == 126) {
            length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
            p = 4;
        } else if (len7 == 127) {
            long l = 0;
            for (int k = 0; k < 8; k++) {
                l = (l << 8) | (header[2 + k] & 0xFF);
            }
            length = l;
            p = 10;
        } else {
            length = len7;
        }
        if (masked) {
            System.arraycopy(header, p, maskingKey, 0, 4);
        }
        remaining = length;
        offset = 0;
        closeCode = 0;
        headerLength = 0;
        headerNeeded = 2;
    }

    private void complete(Listener listener) {
        int code = opcode == WsWire.OP_CLOSE && length >= 2 ? closeCode : -1;
        listener.onFrame(opcode, length, code);
    }
}
