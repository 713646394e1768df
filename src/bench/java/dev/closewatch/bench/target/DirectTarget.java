package dev.closewatch.bench.target;

import java.net.InetSocketAddress;
import java.util.List;

/** The upstream itself, with no proxy: the baseline. */
public final class DirectTarget implements Target {

    private final InetSocketAddress upstream;

    public DirectTarget(InetSocketAddress upstream) {
        this.upstream = upstream;
    }

    @Override
    public String name() {
        return "direct";
    }

    @Override
    public InetSocketAddress address() {
        return upstream;
    }

    @Override
    public List<Long> pids() {
        return List.of();
    }

    @Override
    public void close() {
    }
}
