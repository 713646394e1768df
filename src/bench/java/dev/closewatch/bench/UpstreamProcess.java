package dev.closewatch.bench;

import dev.closewatch.bench.load.BenchUpstream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The {@link BenchUpstream} in its own JVM; closing our end of its standard input stops it. */
final class UpstreamProcess implements AutoCloseable {

    private final Process process;
    private final InetSocketAddress address;

    private UpstreamProcess(Process process, InetSocketAddress address) {
        this.process = process;
        this.address = address;
    }

    static UpstreamProcess start(String classpath, int threads, Path log) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Xms256m", "-Xmx1g", "-cp", classpath,
                BenchUpstream.class.getName(), "0", Integer.toString(threads)))
                .redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("READY ")) {
            p.destroyForcibly();
            throw new IOException("bench upstream did not start (said " + line + "); see " + log);
        }
        return new UpstreamProcess(p, new InetSocketAddress("127.0.0.1", Integer.parseInt(line.substring(6).trim())));
    }

    InetSocketAddress address() {
        return address;
    }

    long pid() {
        return process.pid();
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
