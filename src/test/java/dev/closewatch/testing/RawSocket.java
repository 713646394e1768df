package dev.closewatch.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A blocking socket that speaks just enough HTTP/1.1 and RFC 6455 framing to script exact bytes:
 * the tests' own WebSocket peer, used as client and as upstream. Reads time out after 10 s so a
 * broken proxy fails the test instead of hanging it.
 */
public class RawSocket implements AutoCloseable {

    protected final Socket socket;
    protected final DataInputStream in;
    protected final OutputStream out;
    private final java.util.List<WsFrame> framesRead = new java.util.concurrent.CopyOnWriteArrayList<>();

    public RawSocket(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Reads an HTTP head (start line and headers, up to the blank line); names lower-cased. */
    public Head readHead() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed inside an HTTP head: " + buf);
            }
            buf.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        String[] lines = buf.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        return new Head(lines[0], headers);
    }

    /** Reads exactly {@code n} bytes. */
    public byte[] readBytes(int n) throws IOException {
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** Reads one frame (masked or not) and unmasks its payload. */
    public WsFrame readFrame() throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        raw.write(b0);
        raw.write(b1);
        long len = b1 & 0x7F;
        if (len == 126) {
            byte[] ext = readBytes(2);
            raw.writeBytes(ext);
            len = ((ext[0] & 0xFF) << 8) | (ext[1] & 0xFF);
        } else if (len == 127) {
            byte[] ext = readBytes(8);
            raw.writeBytes(ext);
            len = 0;
            for (byte e : ext) {
                len = (len << 8) | (e & 0xFF);
            }
        }
        byte[] key = null;
        if ((b1 & 0x80) != 0) {
            key = readBytes(4);
            raw.writeBytes(key);
        }
        byte[] payload = readBytes((int) len);
        raw.writeBytes(payload);
        if (key != null) {
            payload = Frames.unmask(payload, key);
        }
        WsFrame frame = new WsFrame((b0 & 0x80) != 0, b0 & 0x0F, payload, raw.toByteArray());
        framesRead.add(frame);
        return frame;
    }

    /** Every frame read so far, in order. */
    public java.util.List<WsFrame> framesRead() {
        return framesRead;
    }

    /** This end's local port (the client port the proxy sees as peer). */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** Reads until the peer closes; returns what came. */
    public byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    /** True once the peer has closed its side (reads end of stream). */
    public boolean peerClosed() throws IOException {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void writeAscii(String text) throws IOException {
        write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Orderly close: FIN. */
    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Half-close: FIN on the sending side only (shutdown(SHUT_WR)); the socket still reads. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Abortive close: RST (SO_LINGER 0). */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    public InputStream input() {
        return in;
    }

    /** An HTTP head. */
    public record Head(String startLine, Map<String, String> headers) {
        public int status() {
            return Integer.parseInt(startLine.split(" ")[1]);
        }
    }
}
