package dev.closewatch.bench.target;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code netty-tcp}: the benchmark's blind Netty TCP relay ({@code NettyTcpRelay}) in its own JVM
 * with closewatch's JVM options, in front of the upstream: the cost floor of a Netty proxy,
 * for telling closewatch's own work from Netty's and the JVM's. Opt-in ({@code --netty-floor}).
 */
public final class NettyTcpTarget implements Target {

    private final Process process;
    private final InetSocketAddress address;

    private NettyTcpTarget(Process process, InetSocketAddress address) {
        this.process = process;
        this.address = address;
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
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : jvmArgs.trim().split("\\s+")) {
            if (!a.isEmpty()) {
                cmd.add(a);
            }
        }
        // closewatch turns Netty's low-memory pooling off in its main(); the relay gets the same.
        cmd.addAll(List.of("-Dio.netty.allocator.lowMemory=false", "-cp", classpath,
                "dev.closewatch.bench.load.NettyTcpRelay", Integer.toString(upstream.getPort()), Integer.toString(threads)));
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("READY ")) {
            p.destroyForcibly();
            throw new IOException("netty-tcp relay did not start (said " + line + "); see " + log);
        }
        return new NettyTcpTarget(p, new InetSocketAddress("127.0.0.1", Integer.parseInt(line.substring(6).trim())));
    }

    @Override
    public String name() {
        return "netty-tcp";
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public List<Long> pids() {
        return List.of(process.pid());
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
