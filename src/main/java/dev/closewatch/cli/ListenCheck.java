package dev.closewatch.cli;

import dev.closewatch.config.HostPort;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Locale;

/**
 * Tries each listen address before anything starts, so a busy port ends the command with one
 * line that names the address, the flag or key that set it and the fix — before any
 * "listening" line, and without a stack trace.
 */
final class ListenCheck {

    /** A listen address that cannot be bound; the message is the whole story for the user. */
    static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message);
        }
    }

    private ListenCheck() {
    }

    /**
     * Binds and releases {@code address} (port 0 needs no check).
     *
     * @param setBy the flag or key that chose it, e.g. {@code --listen} or {@code admin.listen in closewatch.yaml}
     * @param fix   how to choose another, e.g. {@code --listen or listen:}
     * @throws Unavailable if it cannot be bound, saying why and what to do
     */
    static void require(String address, String setBy, String fix) throws Unavailable {
        HostPort hp = HostPort.parse(address);
        if (hp.port() == 0) {
            return;
        }
        InetSocketAddress socketAddress = hp.toSocketAddress();
        if (socketAddress.isUnresolved()) {
            throw new Unavailable(message(hp, setBy, "the host name does not resolve",
                    "write an IP address of this machine, e.g. 0.0.0.0 or 127.0.0.1, with " + fix));
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(socketAddress);
        } catch (IOException e) {
            throw new Unavailable(describe(hp, setBy, fix, e));
        }
    }

    /** The one-line message for a failed bind of {@code hp}. */
    static String describe(HostPort hp, String setBy, String fix, Throwable e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("in use")) {
            return message(hp, setBy, "address already in use", "stop the process that holds it (ss -ltnp 'sport = :"
                    + hp.port() + "' shows it) or choose another port with " + fix);
        }
        if (m.contains("permission") || m.contains("access")) {
            return message(hp, setBy, "permission denied", "choose a port of 1024 or more with " + fix
                    + ", or grant the process CAP_NET_BIND_SERVICE");
        }
        if (m.contains("assign") || e instanceof BindException) {
            return message(hp, setBy, "cannot bind (" + e.getMessage() + ")",
                    "write an address of this machine, e.g. 0.0.0.0 or 127.0.0.1, with " + fix);
        }
        return message(hp, setBy, String.valueOf(e.getMessage()), "choose another address with " + fix);
    }

    private static String message(HostPort hp, String setBy, String why, String what) {
        return "closewatch: cannot listen on " + hp + " (set by " + setBy + "): " + why + "; " + what + ".";
    }
}
