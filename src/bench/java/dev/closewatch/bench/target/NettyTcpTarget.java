package dev.closewatch.bench.target;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code netty-tcp}: the benchmark's blind Netty TCP relay ({@code NettyTcpRelay}) in its own JVM
 * with closewatch's JVM options, in front of the upstream: the cost floor of a Netty proxy,
 * for telling closewatch's own work from Netty's and the JVM's. Opt-in ({@code --netty-floor}).
 */
public final class NettyTcpTarget implements Target {

    private final String name;
    private final ReadyProcess process;

    private NettyTcpTarget(String name, ReadyProcess process) {
        this.name = name;
        this.process = process;
    }

    /**
     * Starts the relay and waits for its {@code READY} line.
     *
     * @param classpath the benchmark's class path (holds the relay and Netty)
     * @param jvmArgs   JVM options, split on spaces (closewatch's)
     * @param upstream  the upstream's address
     * @param threads   event loop threads
     * @param log       where its standard error goes
     * @throws IOException if it does not start
     */
    public static NettyTcpTarget start(String classpath, String jvmArgs, InetSocketAddress upstream, int threads,
                                       Path log) throws IOException {
        return start("netty-tcp", classpath, jvmArgs, upstream, threads, 0, log);
    }

    /**
     * Starts the relay with {@code workMicros} of CPU work added to every read (see
     * {@code NettyTcpRelay}): {@code netty-tcp-slow}, the stand-in that proves the regression guard fails.
     *
     * @param name       the target's name in the report
     * @param workMicros busy work per read, in microseconds; 0 for none
     * @throws IOException if it does not start
     */
    public static NettyTcpTarget start(String name, String classpath, String jvmArgs, InetSocketAddress upstream,
                                       int threads, int workMicros, Path log) throws IOException {
        List<String> cmd = ProxyProcess.javaCommand(Path.of(System.getProperty("java.home"), "bin", "java"), jvmArgs);
        // closewatch turns Netty's low-memory pooling off in its main(); the relay gets the same.
        cmd.addAll(List.of("-Dio.netty.allocator.lowMemory=false", "-cp", classpath,
                "dev.closewatch.bench.load.NettyTcpRelay", Integer.toString(upstream.getPort()), Integer.toString(threads),
                Integer.toString(workMicros)));
        return new NettyTcpTarget(name, ReadyProcess.start(cmd, log, name + " relay"));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public InetSocketAddress address() {
        return process.address();
    }

    @Override
    public List<Long> pids() {
        return List.of(process.pid());
    }

    @Override
    public void close() {
        process.close();
    }
}
