package dev.closewatch.bench;

import dev.closewatch.bench.load.BenchUpstream;
import dev.closewatch.bench.target.ReadyProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/** The {@link BenchUpstream} in its own JVM; closing our end of its standard input stops it. */
final class UpstreamProcess implements AutoCloseable {

    private final ReadyProcess process;

    private UpstreamProcess(ReadyProcess process) {
        this.process = process;
    }

    static UpstreamProcess start(String classpath, int threads, Path log) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new UpstreamProcess(ReadyProcess.start(List.of(java.toString(), "-Xms256m", "-Xmx1g", "-cp", classpath,
                BenchUpstream.class.getName(), "0", Integer.toString(threads)), log, "bench upstream"));
    }

    InetSocketAddress address() {
        return process.address();
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        process.close();
    }
}
