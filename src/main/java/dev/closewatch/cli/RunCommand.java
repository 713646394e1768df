package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.HostPort;
import dev.closewatch.proxy.ProxyServer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code closewatch run} — the proxy, until SIGTERM, SIGINT or {@code POST /admin/drain} starts a
 * graceful drain; then it exits {@value #EXIT_DRAINED} when every drained session ended by
 * itself, {@value #EXIT_CUT} when some had to be cut at {@code drain.timeout},
 * {@value #EXIT_CONFIG} when the configuration is refused at start and {@value #EXIT_BIND} when a
 * listen address cannot be bound (see {@link ExitCodes}).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the proxy in front of your WebSocket backend.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {" 0:drained: every session closed within drain.timeout",
            " 1:runtime failure, e.g. a listen address cannot be bound",
            " 2:usage error (unknown option, bad argument)",
            " 3:drained, but some sessions had to be cut at drain.timeout",
            "78:the configuration was refused"})
final class RunCommand implements Callable<Integer> {

    static final int EXIT_DRAINED = ExitCodes.OK;
    static final int EXIT_BIND = ExitCodes.RUNTIME;
    static final int EXIT_CONFIG = ExitCodes.CONFIG;
    static final int EXIT_CUT = ExitCodes.DRAIN_CUT;

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ProxyOptions options;

    @Option(names = "--upstream", paramLabel = "ws://HOST[:PORT][/path]",
            description = "upstream for every path (replaces the configuration's routes). Default: none, the"
                    + " configuration's routes.")
    String upstream;

    @Override
    public Integer call() throws Exception {
        CloseWatchConfig config;
        try {
            config = options.load();
            if (upstream != null) {
                config = config.withUpstream(upstream);
            }
            config = options.validated(config);
        } catch (ConfigException e) {
            System.err.println("closewatch: refusing to start: " + e.getMessage());
            return EXIT_CONFIG;
        }
        // SIGTERM / SIGINT start the graceful drain. Handled here rather than in a shutdown hook:
        // a hook runs while the JVM is already exiting with 128 + signal, whatever the drain found.
        // Installed before the listeners open, so a signal right after "listening" (or during the
        // start) still drains instead of ending the JVM with 128 + signal.
        AtomicReference<ProxyServer> started = new AtomicReference<>();
        AtomicBoolean signalled = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signals.handle(name, signal -> {
                    LOG.atInfo().addKeyValue("event", "proxy.signal").addKeyValue("signal", "SIG" + signal)
                            .log("signal received: draining");
                    signalled.set(true);
                    ProxyServer p = started.get();
                    if (p != null) {
                        p.drain();
                    }
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // e.g. with -Xrs: the JVM keeps the signal, which then ends the process without a drain
                LOG.warn("cannot handle SIG{} ({}): it will stop closewatch without a drain", name, e.getMessage());
            }
        }
        CloseWatchApp app;
        try {
            app = start(config, options);
        } catch (ListenCheck.Unavailable e) {
            System.err.println(e.getMessage());
            return EXIT_BIND;
        }
        enableReload(app);
        ProxyServer proxy = app.proxy();
        started.set(proxy);
        if (signalled.get()) {
            proxy.drain(); // a signal came during the start; drain() runs once however often it is called
        }
        ProxyServer.DrainResult result;
        try {
            result = proxy.awaitDrain();
            Duration linger = config.drain().linger();
            if (!linger.isZero()) {
                // The admin port still answers: a last scrape sees the drain's final counts.
                LOG.atInfo().addKeyValue("event", "proxy.drain.linger").addKeyValue("linger_ms", linger.toMillis())
                        .log("drain finished; admin port serving a while longer (drain.linger)");
                Thread.sleep(linger.toMillis());
            }
        } finally {
            app.close();
        }
        return result.cut() == 0 ? EXIT_DRAINED : EXIT_CUT;
    }

    /**
     * Checks both listen addresses, then starts: a busy port is one line on standard error,
     * printed before any "listening" line. A port taken between the check and the bind still
     * ends in the same line, though the proxy's "listening" line may have come first.
     */
    static CloseWatchApp start(CloseWatchConfig config, ProxyOptions options) throws Exception {
        ListenCheck.require(config.listen(), options.listenSource(), "--listen or listen:");
        ListenCheck.require(config.admin().listen(), options.adminSource(), "--admin or admin.listen:");
        try {
            return CloseWatchApp.start(config);
        } catch (java.io.IOException e) {
            // Taken since the check. Netty's epoll bind fails with a NativeIoException, the JDK's with
            // a BindException: both IOExceptions, thrown from the server that could not bind.
            boolean admin = java.util.Arrays.stream(e.getStackTrace()).anyMatch(f -> f.getClassName().endsWith(".AdminServer"));
            throw new ListenCheck.Unavailable(admin
                    ? ListenCheck.describe(HostPort.parse(config.admin().listen()), options.adminSource(), "--admin or admin.listen:", e)
                    : ListenCheck.describe(HostPort.parse(config.listen()), options.listenSource(), "--listen or listen:", e));
        }
    }

    /**
     * With {@code --config}: {@code SIGHUP} and {@code POST /admin/reload} re-read the file, the
     * flags still overriding it. Without, there is nothing to re-read and {@code SIGHUP} keeps the
     * JVM's default (a graceful stop, as SIGTERM).
     */
    private void enableReload(CloseWatchApp app) {
        if (options.config == null) {
            return;
        }
        ReloadSignal.install(app.enableReload(options.config, c -> {
            CloseWatchConfig r = c;
            if (options.listen != null) {
                r = r.withListen(options.listen);
            }
            if (options.admin != null) {
                r = r.withAdmin(options.admin);
            }
            return upstream == null ? r : r.withUpstream(upstream);
        }));
    }
}
