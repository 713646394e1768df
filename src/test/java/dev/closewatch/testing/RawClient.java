package dev.closewatch.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/** The tests' raw WebSocket client: a real socket that sends exactly the bytes a test scripts. */
public final class RawClient extends RawSocket {

    private Head response;

    private RawClient(Socket socket) throws IOException {
        super(socket);
    }

    /** Connects to 127.0.0.1:{@code port} without sending anything. */
    public static RawClient connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return new RawClient(s);
    }

    /** Connects and performs the opening handshake (RFC 6455 §4.1); returns the client after the response head. */
    public static RawClient open(int port, String path) throws IOException {
        RawClient c = connect(port);
        c.handshake(path);
        return c;
    }

    /** Sends the opening handshake and reads the response head. */
    public Head handshake(String path) throws IOException {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        writeAscii("GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "Origin: http://127.0.0.1\r\n"
                + "\r\n");
        response = readHead();
        return response;
    }

    /** The handshake response head. */
    public Head response() {
        return response;
    }

    /** Sends a masked frame; returns its exact bytes. */
    public byte[] send(boolean fin, int opcode, byte[] payload) throws IOException {
        byte[] frame = Frames.masked(fin, opcode, payload);
        write(frame);
        return frame;
    }
}
