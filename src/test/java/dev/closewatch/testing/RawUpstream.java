package dev.closewatch.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The tests' raw WebSocket upstream on 127.0.0.1: each accepted connection runs the current
 * {@link Script} on its own thread. Errors in scripts are kept for {@link #errors()}.
 */
public final class RawUpstream implements AutoCloseable {

    /** What the upstream does with one connection. */
    @FunctionalInterface
    public interface Script {
        void run(Connection connection) throws Exception;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "raw-upstream");
        t.setDaemon(true);
        return t;
    });
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final Queue<Connection> connections = new ConcurrentLinkedQueue<>();
    private volatile Script script = Connection::echoUntilClose;

    public RawUpstream() throws IOException {
        this(InetAddress.getLoopbackAddress(), 0);
    }

    /** Listens on {@code address}:{@code port} (a loopback address; port 0 for any free one). */
    public RawUpstream(InetAddress address, int port) throws IOException {
        server = new ServerSocket(port, 100, address);
        threads.execute(this::acceptLoop);
    }

    /** Sets what the next connections do. */
    public RawUpstream script(Script script) {
        this.script = script;
        return this;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    public Queue<Connection> connections() {
        return connections;
    }

    /** Failures of scripts, to assert empty. */
    public Queue<Throwable> errors() {
        return errors;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Script current = script;
                Connection c = new Connection(s);
                connections.add(c);
                threads.execute(() -> {
                    try (c) {
                        current.run(c);
                    } catch (Throwable e) {
                        if (!(e instanceof SocketException)) {
                            errors.add(e);
                        }
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }

    /** One upstream connection. */
    public static final class Connection extends RawSocket {
        private Head request;

        Connection(Socket socket) throws IOException {
            super(socket);
        }

        /** Reads the request head and answers 101 with the right Sec-WebSocket-Accept (§4.2.2). */
        public Head accept() throws IOException {
            request = readHead();
            writeAscii("HTTP/1.1 101 Switching Protocols\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + acceptKey(request.headers().get("sec-websocket-key")) + "\r\n"
                    + "\r\n");
            return request;
        }

        /** The request head read by {@link #accept()}. */
        public Head request() {
            return request;
        }

        /** Sends an unmasked frame; returns its bytes. */
        public byte[] send(boolean fin, int opcode, byte[] payload) throws IOException {
            byte[] frame = Frames.unmasked(fin, opcode, payload);
            write(frame);
            return frame;
        }

        /** Accepts, then echoes every data frame unmasked; answers a Close with the same body and closes. */
        public void echoUntilClose() throws IOException {
            accept();
            while (true) {
                WsFrame f = readFrame();
                if (f.opcode() == Frames.CLOSE) {
                    send(true, Frames.CLOSE, f.payload());
                    return;
                }
                if (f.opcode() == Frames.PING) {
                    send(true, Frames.PONG, f.payload());
                } else {
                    send(f.fin(), f.opcode(), f.payload());
                }
            }
        }

        static String acceptKey(String key) {
            try {
                MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
                byte[] digest = sha1.digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
                return Base64.getEncoder().encodeToString(digest);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
