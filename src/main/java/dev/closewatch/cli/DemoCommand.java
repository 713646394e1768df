package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.CustomCodeConfig;
import dev.closewatch.config.DiagnosisConfig;
import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.demo.EchoUpstream;
import dev.closewatch.demo.IdleCutRelay;
import dev.closewatch.demo.LiveTable;
import dev.closewatch.demo.TerminalSize;
import dev.closewatch.demo.TrafficMix;
import dev.closewatch.diagnose.SignatureDetector;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code closewatch demo} — the embedded default: an in-process echo upstream, the proxy in front
 * of it, and clients that show the diagnosis within a minute: a mix that ends sessions in every
 * common way from a noisy device population, sessions behind an {@link IdleCutRelay} (a timeout
 * signature), clients that reconnect at once or back off (a reconnect storm) and one noisy client
 * (the top offender). On a terminal a table redrawn to the window's size, else one line per
 * second; a summary at the end (Ctrl-C or {@code --duration}). See docs/cli.md, "demo".
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run closewatch against an embedded echo upstream with clients that show why sessions end "
                + "(a timeout signature, a reconnect storm, a noisy client); a live table fitted to the terminal, "
                + "one line per second when not on a terminal, a summary at the end.")
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

    @Option(names = "--idle-cut", paramLabel = "SECONDS", defaultValue = "4",
            description = "idle timeout of the demo's intermediary in front of some sessions; they are cut after this "
                    + "long without traffic (1006 on the client leg) and the diagnosis names it; 0 = no intermediary "
                    + "(default: ${DEFAULT-VALUE})")
    int idleCut;

    /** The demo's own admin port: not 9090, Prometheus's default. */
    static final String DEFAULT_ADMIN = "127.0.0.1:8081";
    static final String DEFAULT_LISTEN = "127.0.0.1:8080";

    /**
     * Sessions through the idle-cutting intermediary per mix session: twice the mix's own client-side
     * TCP drops (1 in 14 scenarios), so the idle cuts stay the larger share of the client leg's
     * abnormal ends at any {@code --rate}.
     */
    private static final double IDLE_SESSIONS_PER_MIX_SESSION = 1.0 / 7;
    /** Sessions a second of the noisy client, and the reconnecting clients. */
    private static final double NOISY_SESSIONS_PER_SECOND = 1;
    private static final int STORMING_CLIENTS = 3;
    private static final int BACKING_OFF_CLIENTS = 2;
    private static final Duration RECONNECTING_HOLD = Duration.ofMillis(300);

    @Override
    @SuppressWarnings("try") // traffic is closed before the summary, and again (a no-op) by the try
    public Integer call() throws Exception {
        if (idleCut < 0 || idleCut > 3600) {
            System.err.println("closewatch: --idle-cut: " + idleCut + " (expected: 0-3600 seconds)");
            return ExitCodes.USAGE;
        }
        CloseWatchConfig config;
        EchoUpstream upstream = externalUpstream == null ? EchoUpstream.start(0) : null;
        try {
            config = options.load();
            if (options.listen == null && options.config == null) {
                config = config.withListen(DEFAULT_LISTEN);
            }
            if (options.admin == null && options.config == null) {
                config = config.withAdmin(DEFAULT_ADMIN);
            }
            if (options.config == null) {
                config = diagnosisSettings(config);
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
        ch.qos.logback.classic.Logger diagnosisLog = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(SignatureDetector.LOGGER);
        ch.qos.logback.classic.Level closeLogLevel = closeLog.getLevel();
        ch.qos.logback.classic.Level diagnosisLogLevel = diagnosisLog.getLevel();
        if (!log) {
            // the table shows what these lines say; they would scroll it away
            closeLog.setLevel(ch.qos.logback.classic.Level.OFF);
            diagnosisLog.setLevel(ch.qos.logback.classic.Level.OFF);
        }
        CloseWatchApp running;
        try {
            running = RunCommand.start(config, options);
        } catch (ListenCheck.Unavailable e) {
            if (upstream != null) {
                upstream.close();
            }
            closeLog.setLevel(closeLogLevel);
            diagnosisLog.setLevel(diagnosisLogLevel);
            System.err.println(e.getMessage());
            return ExitCodes.RUNTIME;
        }
        IdleCutRelay relay = null;
        try (CloseWatchApp app = running;
             TrafficMix traffic = new TrafficMix(URI.create("ws://127.0.0.1:" + app.proxy().address().getPort() + "/demo"))) {
            LiveTable table = new LiveTable(app.registry(), app.catalog(), app.diagnosis()::signatures,
                    () -> app.observability().reconnects().snapshot().storms());
            String admin = address(app.admin().address());
            System.out.println("closewatch demo: proxy ws://" + address(app.proxy().address()) + " -> "
                    + (upstream == null ? "demo upstream " + externalUpstream
                            : "embedded echo upstream ws://" + address(upstream.address()))
                    + "; metrics at http://" + admin + "/metrics, diagnosis at http://" + admin + "/api/diagnosis");
            traffic.start(rate);
            traffic.startNoisyClient(NOISY_SESSIONS_PER_SECOND);
            traffic.startReconnectingClients(STORMING_CLIENTS, BACKING_OFF_CLIENTS, RECONNECTING_HOLD);
            if (idleCut > 0) {
                relay = IdleCutRelay.start(app.proxy().address(), Duration.ofSeconds(idleCut));
                traffic.startIdleClients(URI.create("ws://" + address(relay.address()) + "/demo"),
                        Math.max(1, rate * IDLE_SESSIONS_PER_MIX_SESSION));
            }
            if (stormAfter != null) {
                traffic.startStorm(stormAfter, stormDuration, stormRate);
            }
            boolean terminal = System.console() != null && !log;
            long started = System.nanoTime();
            AtomicBoolean summarized = new AtomicBoolean();
            // whole seconds shown so far: --duration N ends "after N s" however late the last tick
            AtomicLong shown = new AtomicLong();
            Runnable summary = () -> {
                if (summarized.compareAndSet(false, true)) {
                    long elapsed = shown.get();
                    if (terminal) {
                        // after the table (and the ^C the terminal echoed), wrapped to its width
                        System.out.println();
                        table.finalSummary(elapsed, TerminalSize.query().columns()).forEach(System.out::println);
                    } else {
                        table.finalSummary(elapsed).forEach(System.out::println);
                    }
                    System.out.println("closewatch demo: done after " + elapsed + " s; client sessions that failed: "
                            + traffic.failures());
                    System.out.flush();
                }
            };
            // Ctrl-C ends the JVM with the loop below still waiting: the hook prints the summary.
            Thread hook = new Thread(summary, "closewatch-demo-summary");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                long tick = 1;
                while (duration == null || tick <= duration) {
                    long wait = started + tick * 1_000_000_000L - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    if (terminal) {
                        TerminalSize size = TerminalSize.query();
                        StringBuilder screen = new StringBuilder("\033[H");
                        // each line clears its own rest, then the rest of the screen: no flicker
                        for (String line : table.render(tick, "admin " + admin, size.columns(), size.lines())) {
                            screen.append(line).append("\033[K\n");
                        }
                        System.out.print(screen.append("\033[J"));
                    } else {
                        System.out.println(table.summaryLine(tick));
                    }
                    System.out.flush();
                    shown.set(tick);
                    tick++;
                }
            } finally {
                traffic.close();
                summary.run();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // Ctrl-C: the hook runs now
                }
            }
        } finally {
            if (relay != null) {
                relay.close();
            }
            if (upstream != null) {
                upstream.close();
            }
            closeLog.setLevel(closeLogLevel);
            diagnosisLog.setLevel(diagnosisLogLevel);
        }
        return 0;
    }

    /**
     * The diagnosis settings the demo runs with, so that its first minute shows a signature and a
     * storm: a short diagnosis window and counts, X-Forwarded-For trusted from loopback (the demo's
     * clients send their device's address there), and the reconnecting clients' key header.
     * The mix ends a 1006 from the client side on purpose too (idle ≈ 0), so the signature's share
     * is set below its default.
     */
    static CloseWatchConfig diagnosisSettings(CloseWatchConfig config) {
        return config.withDiagnosis(new DiagnosisConfig(Duration.ofMinutes(2), 10, 0.3, null, null))
                .withReconnect(new ReconnectConfig("header:" + TrafficMix.CLIENT_KEY_HEADER, null, Duration.ofMinutes(1), 5))
                .withTrustedProxies(List.of("127.0.0.1/32"));
    }

    /** {@code 127.0.0.1:8080}, {@code [::1]:8080}: never {@code InetSocketAddress}'s {@code /127.0.0.1:8080}. */
    private static String address(java.net.InetSocketAddress a) {
        String host = a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
