package dev.closewatch.bench.target;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * A proxy target that is one child process of the benchmark (closewatch, nginx, HAProxy), started
 * through {@link ProxyProcess}: its name, its listening address, its process, and its stop.
 */
abstract class ProcessTarget implements Target {

    private final String name;
    /** The proxy's process (nginx: its master). */
    protected final Process process;
    private final InetSocketAddress address;

    ProcessTarget(String name, Process process, InetSocketAddress address) {
        this.name = name;
        this.process = process;
        this.address = address;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    /** The one process; a target with worker processes adds them. */
    @Override
    public List<Long> pids() {
        return List.of(process.pid());
    }

    /** SIGTERM, SIGKILL to it and its descendants after 10 s ({@link ProxyProcess#stop}). */
    @Override
    public void close() {
        ProxyProcess.stop(process);
    }
}
