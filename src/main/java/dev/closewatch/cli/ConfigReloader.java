package dev.closewatch.cli;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.AdminConfig;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import dev.closewatch.config.CustomCodeConfig;
import dev.closewatch.config.LogConfig;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.LogText;
import dev.closewatch.observe.MeterNames;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.ReloadMeters;
import dev.closewatch.proxy.ProxyServer;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads the configuration file given with {@code --config} ({@code SIGHUP},
 * {@code POST /admin/reload}) and applies it to what starts from now on: routes, upstreams and
 * their timeouts and TLS, custom codes, limits, keepalive, drain and log settings reach new
 * connections and sessions; open sessions keep the settings they started with. An invalid file
 * is refused with the messages of {@code closewatch check-config} and the running configuration
 * stays. What a bound socket cannot change — {@code listen}, every {@code admin.*} key, turning
 * {@code tls} on or off — is reported as needing a restart, and the rest is applied.
 *
 * <p>Every reload writes one key-value line {@code event=config.reload trigger result file ...}
 * and counts in {@link ReloadMeters}. Reloads are serialised.
 */
public final class ConfigReloader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final UnaryOperator<CloseWatchConfig> overrides;
    private final ProxyServer proxy;
    private final Observability observability;
    private final Consumer<CloseCatalog> catalogSink;
    private final ReloadMeters meters;
    private CloseWatchConfig running;

    /**
     * @param file          the configuration file to re-read
     * @param overrides     the command-line flags that override the file ({@code --listen},
     *                      {@code --admin}, {@code --upstream}), applied to every reading
     * @param running       the configuration in use now
     * @param proxy         gets the new proxy settings
     * @param observability its close logger gets the new log settings, its registry the catalog
     * @param catalogSink   gets the new catalog (for {@code /api/codes})
     * @param meters        counts reloads
     */
    ConfigReloader(Path file, UnaryOperator<CloseWatchConfig> overrides, CloseWatchConfig running, ProxyServer proxy,
                   Observability observability, Consumer<CloseCatalog> catalogSink, ReloadMeters meters) {
        this.file = requireNonNull(file, "file");
        this.overrides = requireNonNull(overrides, "overrides");
        this.running = requireNonNull(running, "running");
        this.proxy = requireNonNull(proxy, "proxy");
        this.observability = requireNonNull(observability, "observability");
        this.catalogSink = requireNonNull(catalogSink, "catalogSink");
        this.meters = requireNonNull(meters, "meters");
    }

    /** The configuration file re-read. */
    public Path file() {
        return file;
    }

    /**
     * What a reload did.
     *
     * @param applied    true when the new configuration is in use (possibly without the keys in
     *                   {@code notApplied}); false when it was refused and the running one stays
     * @param summary    one line: what was applied, or why it was refused
     * @param messages   when refused, the problems as {@code check-config} prints them
     *                   ({@code key.path: 'value' (expected: ...)}); empty when applied
     * @param notApplied changed keys that need a restart, each with the value in use
     */
    public record Result(boolean applied, String summary, List<String> messages, List<String> notApplied) {

        public Result {
            messages = List.copyOf(messages);
            notApplied = List.copyOf(notApplied);
        }

        /** The result as a short plain-text body: the summary, then one indented line per message. */
        public String text() {
            StringBuilder b = new StringBuilder(summary).append('\n');
            for (String m : messages) {
                b.append("  ").append(m).append('\n');
            }
            for (String n : notApplied) {
                b.append("  not applied (needs a restart): ").append(n).append('\n');
            }
            return b.toString();
        }
    }

    /**
     * Re-reads the file and applies it.
     *
     * @param trigger what asked for it, for the log line: {@code sighup} or {@code admin}
     */
    public synchronized Result reload(String trigger) {
        CloseWatchConfig next;
        try {
            ConfigLoader.Loaded loaded = new ConfigLoader().readAll(file);
            next = overrides.apply(loaded.config());
            List<String> errors = loaded.problems(next);
            if (!errors.isEmpty()) {
                throw new ConfigException(file.toString(), errors);
            }
        } catch (ConfigException e) {
            return refused(trigger, e.getMessage().lines().findFirst().orElse(file.toString()), e.errors());
        }
        List<String> notApplied = needsRestart(running, next);
        CloseCatalog catalog = CloseCatalog.loadDefault()
                .withCustomCodes(next.codes().stream().map(CustomCodeConfig::toCloseCode).toList());
        try {
            proxy.reconfigure(next, catalog);
        } catch (IOException e) {
            return refused(trigger, file + ": 1 configuration error(s):", List.of(e.getMessage()));
        }
        LogConfig.RateLimit rateLimit = next.log().rateLimit();
        CloseLogger closeLogger = observability.closeLogger();
        closeLogger.reconfigure(next.log().normalLevel(), rateLimit.linesPerSecond(), rateLimit.burst(),
                rateLimit.summaryInterval());
        republishCatalog(catalog);
        catalogSink.accept(catalog);
        running = next;
        meters.succeeded();
        String summary = "reloaded " + file + ": " + next.routes().size() + " route(s), " + next.codes().size()
                + " custom code(s); new connections use it, " + proxy.openSessions()
                + " open session(s) keep the settings they started with";
        LOG.atInfo().addKeyValue("event", "config.reload").addKeyValue("trigger", trigger)
                .addKeyValue("result", ReloadMeters.SUCCESS).addKeyValue("file", file)
                .addKeyValue("routes", next.routes().size()).addKeyValue("codes", next.codes().size())
                .addKeyValue("open_sessions", proxy.openSessions())
                .addKeyValue("not_applied", String.join("; ", notApplied))
                .log(summary);
        return new Result(true, summary, List.of(), notApplied);
    }

    private Result refused(String trigger, String headline, List<String> errors) {
        meters.failed();
        String summary = "reload refused, the running configuration stays: " + headline;
        LOG.atError().addKeyValue("event", "config.reload").addKeyValue("trigger", trigger)
                .addKeyValue("result", ReloadMeters.FAILURE).addKeyValue("file", file)
                .addKeyValue("errors", LogText.escape(String.join("; ", errors)))
                .log(summary);
        return new Result(false, summary, errors, List.of());
    }

    /** Changed keys a running listener or admin server cannot take, each {@code key: 'new' (in use: 'old')}. */
    static List<String> needsRestart(CloseWatchConfig old, CloseWatchConfig next) {
        List<String> keys = new ArrayList<>();
        if (!old.listen().equals(next.listen())) {
            keys.add("listen: '" + next.listen() + "' (in use: '" + old.listen() + "')");
        }
        if ((old.tls() == null) != (next.tls() == null)) {
            keys.add("tls: " + (next.tls() == null ? "removed" : "added") + " (in use: "
                    + (old.tls() == null ? "ws://, no TLS" : "wss://") + ")");
        }
        AdminConfig a = old.admin();
        AdminConfig b = next.admin();
        diff(keys, "admin.listen", a.listen(), b.listen());
        if (!Objects.equals(a.token(), b.token())) {
            keys.add("admin.token: <hidden> (in use: the previous token)");
        }
        diff(keys, "admin.recent_closes", a.recentCloses(), b.recentCloses());
        diff(keys, "admin.max_streams", a.maxStreams(), b.maxStreams());
        diff(keys, "admin.max_connections", a.maxConnections(), b.maxConnections());
        diff(keys, "admin.request_head_timeout", a.requestHeadTimeout(), b.requestHeadTimeout());
        diff(keys, "admin.keepalive_timeout", a.keepaliveTimeout(), b.keepaliveTimeout());
        if (!old.otlp().equals(next.otlp())) {
            // not shown: otlp.headers usually hold a collector's credentials
            keys.add("otlp: changed (in use: the otlp settings read at start)");
        }
        return keys;
    }

    private static void diff(List<String> keys, String key, Object old, Object next) {
        if (!Objects.equals(old, next)) {
            keys.add(key + ": '" + shown(next) + "' (in use: '" + shown(old) + "')");
        }
    }

    /** A value as the configuration writes it: {@code 10s}, not {@code PT10S}. */
    private static String shown(Object value) {
        return value instanceof java.time.Duration d ? dev.closewatch.config.Durations.format(d) : String.valueOf(value);
    }

    /** Replaces the {@code closewatch_close_code_info} series, so a changed remedy does not leave two series for one code. */
    private void republishCatalog(CloseCatalog catalog) {
        MeterRegistry registry = observability.registry();
        registry.find(MeterNames.CLOSE_CODE_INFO).meters().forEach(registry::remove);
        observability.publishCatalog(catalog);
    }
}
