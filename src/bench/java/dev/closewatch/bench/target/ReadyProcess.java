package dev.closewatch.bench.target;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A helper process of the benchmark's own (the upstream, the {@code netty-tcp} relay): it prints
 * {@code READY <port>} on its standard output once listening on 127.0.0.1, and exits when its
 * standard input closes, so it never outlives the benchmark.
 */
public final class ReadyProcess implements AutoCloseable {

    private final Process process;
    private final InetSocketAddress address;

    private ReadyProcess(Process process, InetSocketAddress address) {
        this.process = process;
        this.address = address;
    }

    /**
     * Starts {@code command} and waits for its {@code READY} line.
     *
     * @param command the command line
     * @param log     where its standard error goes
     * @param what    what it is, for the error message
     * @throws IOException if it cannot be started or says anything else first (it is killed)
     */
    public static ReadyProcess start(List<String> command, Path log, String what) throws IOException {
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.matches("READY \\d{1,5}")) {
                throw new IOException(what + " did not start (said " + line + "); see " + log);
            }
            return new ReadyProcess(p, new InetSocketAddress("127.0.0.1", Integer.parseInt(line.substring(6))));
        } catch (IOException | RuntimeException e) {
            // Not ready, or the line unreadable: it must not outlive the benchmark.
            p.destroyForcibly();
            throw e;
        }
    }

    /** Where it listens. */
    public InetSocketAddress address() {
        return address;
    }

    /** Its process id. */
    public long pid() {
        return process.pid();
    }

    /** Closes its standard input and waits up to 10 s for it to exit, then kills it. */
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
