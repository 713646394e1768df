package dev.closewatch.proxy;

import dev.closewatch.config.Cidr;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code trusted_proxies} CIDR blocks, and what they mean for {@code X-Forwarded-For}
 * (the de-facto header that RFC 7239 §5.2 standardises as {@code Forwarded: for=}): only a
 * trusted peer's list is believed, and of that list only the part added by trusted proxies —
 * the client is the right-most address that is not a trusted proxy. Immutable.
 */
final class TrustedProxies {

    static final TrustedProxies NONE = new TrustedProxies(List.of());

    private final List<Cidr> blocks;

    TrustedProxies(List<Cidr> blocks) {
        this.blocks = List.copyOf(blocks);
    }

    /** Parses the configured blocks (validated already by {@code CloseWatchConfig#validate()}). */
    static TrustedProxies parse(List<String> blocks) {
        return blocks.isEmpty() ? NONE : new TrustedProxies(blocks.stream().map(Cidr::parse).toList());
    }

    boolean isEmpty() {
        return blocks.isEmpty();
    }

    /** Whether {@code address} is in one of the blocks. */
    boolean trusts(InetAddress address) {
        for (Cidr c : blocks) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The comma-separated elements of every {@code X-Forwarded-For} field line, in order: several
     * field lines are one list (RFC 9110 §5.3). Empty elements are dropped.
     */
    static List<String> elements(List<String> fieldLines) {
        List<String> out = new ArrayList<>();
        for (String line : fieldLines) {
            for (String part : line.split(",", -1)) {
                String e = part.trim();
                if (!e.isEmpty()) {
                    out.add(e);
                }
            }
        }
        return out;
    }

    /**
     * The client address of a chain a trusted peer sent: walking from the right, the first address
     * that is not trusted; if every address is trusted, the left-most. An element that is not an IP
     * address (a trusted proxy's {@code unknown}, or garbage) ends the walk: the address right of it
     * is the last one vouched for.
     *
     * @param chain      the {@code X-Forwarded-For} elements, left to right, not empty
     * @param peerIp     the trusted peer, the fallback when no element is an address
     * @return an IP address in its standard text form (RFC 5952 for IPv6), without port
     */
    String client(List<String> chain, InetAddress peerIp) {
        InetAddress last = peerIp;
        for (int i = chain.size() - 1; i >= 0; i--) {
            InetAddress a = address(chain.get(i));
            if (a == null) {
                break;
            }
            last = a;
            if (!trusts(a)) {
                break;
            }
        }
        return last.getHostAddress();
    }

    /** An element as an address: {@code 192.0.2.1}, {@code 2001:db8::1}, {@code [2001:db8::1]}, with an optional {@code :port}; else null. */
    static InetAddress address(String element) {
        String e = element;
        if (e.startsWith("[")) {
            int end = e.indexOf(']');
            if (end < 0) {
                return null;
            }
            e = e.substring(1, end);
        } else if (e.indexOf(':') > 0 && e.indexOf(':') == e.lastIndexOf(':')) {
            e = e.substring(0, e.indexOf(':'));
        }
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(e);
        if (bytes == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException ex) {
            return null;
        }
    }
}
