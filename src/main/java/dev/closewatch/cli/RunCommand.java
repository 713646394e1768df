package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code closewatch run} — the proxy, until SIGINT/SIGTERM. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the proxy in front of your WebSocket backend.")
final class RunCommand implements Callable<Integer> {

    @Mixin
    ProxyOptions options;

    @Option(names = "--upstream", paramLabel = "ws://HOST:PORT[/path]",
            description = "upstream for every path (replaces the configuration's routes)")
    String upstream;

    @Override
    public Integer call() throws Exception {
        CloseWatchConfig config;
        try {
            config = options.load();
            if (upstream != null) {
                config = config.withUpstream(upstream);
            }
            config = ProxyOptions.validated(config, options.source());
        } catch (ConfigException e) {
            System.err.println("closewatch: refusing to start: " + e.getMessage());
            return 2;
        }
        CloseWatchApp app = CloseWatchApp.start(config);
        enableReload(app);
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM / SIGINT: graceful drain (every session gets a Close frame from the proxy),
        // then stop. The JVM runs this hook for both signals.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                int left = app.proxy().drainAndAwait();
                if (left > 0) {
                    org.slf4j.LoggerFactory.getLogger(RunCommand.class)
                            .warn("drain timeout: closing {} session(s) that did not finish their close handshake", left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                app.close();
                stopped.countDown();
            }
        }, "closewatch-shutdown"));
        stopped.await();
        return 0;
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
