package dev.closewatch.proxy;

import dev.closewatch.config.HostPort;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.HostsFileEntriesProvider;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Resolves an upstream's host name to every address it has, never blocking an event loop: an IP
 * literal is itself; a name in the hosts file ({@code /etc/hosts}) gets every entry for it, IPv4
 * and IPv6; any other name goes to DNS ({@code group}, Netty's asynchronous resolver, whose cache
 * keeps each answer for its records' TTL, so the records are re-queried as they expire) for every
 * A and AAAA record. Hosts-file entries carry no TTL: the file is re-read every
 * {@link #HOSTS_REFRESH}, off the event loops, and a lookup uses the copy read last.
 */
final class UpstreamResolver {

    /** How often the hosts file is read again (its entries have no TTL). */
    static final Duration HOSTS_REFRESH = Duration.ofSeconds(30);

    /** Overrides the hosts file's path (tests; containers with an unusual layout). */
    static final String HOSTS_FILE_PROPERTY = "closewatch.hostsFile";

    private final AddressResolverGroup<InetSocketAddress> dns;
    private final File hostsFile;
    private final LongSupplier nanoClock;
    private final AtomicBoolean reading = new AtomicBoolean();
    private volatile HostsFileEntriesProvider hosts;
    private volatile long hostsReadAt;

    /**
     * @param dns       resolves names absent from the hosts file (its owner closes it)
     * @param hostsFile the hosts file, or null for none
     * @param nanoClock {@link System#nanoTime()}, or a test's clock
     */
    UpstreamResolver(AddressResolverGroup<InetSocketAddress> dns, Path hostsFile, LongSupplier nanoClock) {
        this.dns = dns;
        this.hostsFile = hostsFile == null ? null : hostsFile.toFile();
        this.nanoClock = nanoClock;
        this.hosts = read();
        this.hostsReadAt = nanoClock.getAsLong();
    }

    /** The hosts file of this machine, or the one {@value #HOSTS_FILE_PROPERTY} names. */
    static Path systemHostsFile() {
        String override = System.getProperty(HOSTS_FILE_PROPERTY);
        if (override != null) {
            return Path.of(override);
        }
        return Path.of(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("windows")
                ? System.getenv().getOrDefault("SystemRoot", "C:\\Windows") + "\\system32\\drivers\\etc\\hosts"
                : "/etc/hosts");
    }

    /**
     * Every address of {@code target}, resolved on {@code loop} (the client's event loop).
     *
     * @return a future of the addresses (at least one), failed with an {@link UnknownHostException}
     *         when the name has none
     */
    Future<List<InetSocketAddress>> resolveAll(EventExecutor loop, HostPort target) {
        String host = target.host();
        int port = target.port();
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
        if (literal != null) {
            try {
                return loop.newSucceededFuture(List.of(new InetSocketAddress(InetAddress.getByAddress(host, literal), port)));
            } catch (UnknownHostException e) {
                return loop.newFailedFuture(e);
            }
        }
        List<InetSocketAddress> fromHosts = fromHostsFile(host, port);
        if (!fromHosts.isEmpty()) {
            return loop.newSucceededFuture(fromHosts);
        }
        return dns.getResolver(loop).resolveAll(InetSocketAddress.createUnresolved(host, port));
    }

    private List<InetSocketAddress> fromHostsFile(String host, int port) {
        refreshIfDue();
        HostsFileEntriesProvider entries = hosts;
        String key = host.toLowerCase(Locale.ROOT);
        List<InetSocketAddress> out = new ArrayList<>(2);
        for (Map<String, List<InetAddress>> family : List.of(entries.ipv4Entries(), entries.ipv6Entries())) {
            List<InetAddress> found = family.get(key);
            if (found != null) {
                for (InetAddress a : found) {
                    out.add(new InetSocketAddress(a, port));
                }
            }
        }
        return out;
    }

    /** Re-reads the hosts file on Netty's global executor (not an event loop) once the copy is {@link #HOSTS_REFRESH} old. */
    private void refreshIfDue() {
        if (hostsFile == null || nanoClock.getAsLong() - hostsReadAt < HOSTS_REFRESH.toNanos()
                || !reading.compareAndSet(false, true)) {
            return;
        }
        GlobalEventExecutor.INSTANCE.execute(() -> {
            try {
                hosts = read();
                hostsReadAt = nanoClock.getAsLong();
            } finally {
                reading.set(false);
            }
        });
    }

    /** Reads the hosts file now (a missing or unreadable file has no entries). */
    void reload() {
        hosts = read();
        hostsReadAt = nanoClock.getAsLong();
    }

    private HostsFileEntriesProvider read() {
        if (hostsFile == null || !hostsFile.isFile()) {
            try {
                return HostsFileEntriesProvider.parser().parse(new java.io.StringReader(""));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return HostsFileEntriesProvider.parser().parseSilently(hostsFile);
    }
}
