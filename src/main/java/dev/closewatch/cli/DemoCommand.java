package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.CustomCodeConfig;
import dev.closewatch.demo.EchoUpstream;
import dev.closewatch.demo.LiveTable;
import dev.closewatch.demo.TrafficMix;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code closewatch demo} — the embedded default: an in-process echo upstream, the proxy in front
 * of it, and a traffic mix that ends sessions in every common way, with a live per-code table.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run closewatch against an embedded echo upstream with a traffic mix; print a live per-code table.")
final class DemoCommand implements Callable<Integer> {

    @Mixin
    ProxyOptions options;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "stop after this many seconds (default: run until Ctrl-C)")
    Integer duration;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "20", description = "sessions started per second (default: ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--storm-after", paramLabel = "SECONDS",
            description = "inject a storm of 1006 Abnormal Closures (TCP drops) after this many seconds (default: no storm)")
    Integer stormAfter;

    @Option(names = "--storm-duration", paramLabel = "SECONDS", defaultValue = "60",
            description = "how long the storm lasts (default: ${DEFAULT-VALUE})")
    int stormDuration;

    @Option(names = "--storm-rate", paramLabel = "N", defaultValue = "40",
            description = "abnormal closures per second during the storm (default: ${DEFAULT-VALUE})")
    int stormRate;

    @Option(names = "--upstream", paramLabel = "ws://HOST:PORT",
            description = "send the traffic mix through the proxy to this demo upstream (`closewatch echo-upstream`) "
                    + "instead of an embedded one (default: an embedded echo upstream on a free port)")
    String externalUpstream;

    @Option(names = "--log", description = "also print the close log lines (default: off, so the table stays readable)")
    boolean log;

    @Override
    public Integer call() throws Exception {
        CloseWatchConfig config;
        EchoUpstream upstream = externalUpstream == null ? EchoUpstream.start(0) : null;
        try {
            config = options.load();
            if (options.listen == null && options.config == null) {
                config = config.withListen("127.0.0.1:8080");
            }
            config = config.withUpstream(upstream == null ? externalUpstream : "ws://127.0.0.1:" + upstream.address().getPort());
            List<CustomCodeConfig> codes = new ArrayList<>(config.codes());
            if (codes.stream().noneMatch(c -> c.code() != null && c.code() == 4001)) {
                codes.add(new CustomCodeConfig(4001, "Token Expired", "private", "client_error",
                        "The demo application's own code: the session's access token expired.",
                        "The client kept a session open past its token's lifetime.",
                        "Refresh the token and reconnect."));
            }
            config = config.withCodes(codes);
            config = options.validated(config);
        } catch (ConfigException e) {
            if (upstream != null) {
                upstream.close();
            }
            System.err.println("closewatch: refusing to start: " + e.getMessage());
            return ExitCodes.CONFIG;
        }
        ch.qos.logback.classic.Logger closeLog = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(dev.closewatch.observe.CloseLogger.LOGGER);
        ch.qos.logback.classic.Level closeLogLevel = closeLog.getLevel();
        if (!log) {
            closeLog.setLevel(ch.qos.logback.classic.Level.OFF);
        }
        CloseWatchApp running;
        try {
            running = RunCommand.start(config, options);
        } catch (ListenCheck.Unavailable e) {
            if (upstream != null) {
                upstream.close();
            }
            closeLog.setLevel(closeLogLevel);
            System.err.println(e.getMessage());
            return ExitCodes.RUNTIME;
        }
        try (CloseWatchApp app = running;
             TrafficMix traffic = new TrafficMix(URI.create("ws://127.0.0.1:" + app.proxy().address().getPort() + "/demo"))) {
            LiveTable table = new LiveTable(app.registry(), app.catalog());
            app.observability().addCloseConsumer(table);
            System.out.println("closewatch demo: proxy ws://" + app.proxy().address().getHostString() + ":"
                    + app.proxy().address().getPort() + " -> " + (upstream == null ? "demo upstream " + externalUpstream
                            : "embedded echo upstream ws://127.0.0.1:" + upstream.address().getPort())
                    + "; metrics at http://" + app.admin().address().getHostString() + ":"
                    + app.admin().address().getPort() + "/metrics");
            traffic.start(rate);
            if (stormAfter != null) {
                traffic.startStorm(stormAfter, stormDuration, stormRate);
            }
            boolean terminal = System.console() != null && !log;
            long started = System.nanoTime();
            while (duration == null || (System.nanoTime() - started) / 1_000_000_000L < duration) {
                Thread.sleep(1000);
                table.print(System.out, (System.nanoTime() - started) / 1_000_000_000L, terminal);
            }
            traffic.close();
            System.out.println("closewatch demo: done after " + duration + " s; client sessions that failed: "
                    + traffic.failures());
        } finally {
            if (upstream != null) {
                upstream.close();
            }
            closeLog.setLevel(closeLogLevel);
        }
        return 0;
    }
}
