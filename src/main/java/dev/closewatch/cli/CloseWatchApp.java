package dev.closewatch.cli;

import dev.closewatch.admin.AdminServer;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.CustomCodeConfig;
import dev.closewatch.config.LogConfig;
import dev.closewatch.diagnose.Intermediaries;
import dev.closewatch.diagnose.SignatureDetector;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.RecentCloses;
import dev.closewatch.observe.ReloadMeters;
import dev.closewatch.observe.Registries;
import dev.closewatch.observe.otlp.OtlpExport;
import dev.closewatch.proxy.ProxyServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * A running closewatch: the catalog (with the configuration's own codes), the Prometheus
 * registry, the rate-limited close log, the recent-closes ring, the proxy listener and the admin
 * server, started together and closed together.
 */
public final class CloseWatchApp implements AutoCloseable {

    private volatile CloseCatalog catalog;
    private final CloseWatchConfig config;
    private final ReloadMeters reloadMeters;
    private final PrometheusMeterRegistry registry;
    private final CloseLogger closeLogger;
    private final Observability observability;
    private final RecentCloses recentCloses;
    private final ProxyServer proxy;
    private final AdminServer admin;
    private final SignatureDetector diagnosis;
    private final OtlpExport otlp;

    private CloseWatchApp(CloseCatalog catalog, CloseWatchConfig config, PrometheusMeterRegistry registry,
                          CloseLogger closeLogger, Observability observability, RecentCloses recentCloses,
                          ProxyServer proxy, AdminServer admin, SignatureDetector diagnosis, OtlpExport otlp) {
        this.catalog = catalog;
        this.config = config;
        this.reloadMeters = new ReloadMeters(observability.registry(), Clock.systemUTC());
        this.registry = registry;
        this.closeLogger = closeLogger;
        this.observability = observability;
        this.recentCloses = recentCloses;
        this.proxy = proxy;
        this.admin = admin;
        this.diagnosis = diagnosis;
        this.otlp = otlp;
    }

    /**
     * Starts closewatch on a validated configuration. The admin server reports ready until
     * {@link #setReadiness} says otherwise, and {@code POST /admin/drain} answers 501 until
     * {@link #setDrainHook} gives it something to run.
     *
     * @throws IllegalArgumentException if {@code config} does not validate
     * @throws IOException              if the admin address cannot be bound
     * @throws InterruptedException     if interrupted while binding
     */
    public static CloseWatchApp start(CloseWatchConfig config) throws IOException, InterruptedException {
        List<String> errors = config.validate();
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid configuration: " + errors);
        }
        CloseCatalog catalog = CloseCatalog.loadDefault()
                .withCustomCodes(config.codes().stream().map(CustomCodeConfig::toCloseCode).toList());
        PrometheusMeterRegistry registry = Registries.prometheus();
        // otlp.metrics on: meters are registered through a composite of Prometheus and OTLP
        OtlpExport otlp = OtlpExport.start(config.otlp(), registry);
        LogConfig.RateLimit rateLimit = config.log().rateLimit();
        CloseLogger closeLogger = CloseLogger.start(config.log().normalLevel(), rateLimit.linesPerSecond(),
                rateLimit.burst(), rateLimit.summaryInterval());
        Observability observability = new Observability(otlp.registry(), closeLogger);
        otlp.attach(observability);
        observability.publishCatalog(catalog);
        RecentCloses recentCloses = new RecentCloses(config.admin().recentCloses());
        observability.addCloseConsumer(recentCloses);
        SignatureDetector diagnosis = SignatureDetector.start(config.diagnosis(),
                Intermediaries.loadDefault().withOperatorEntries(config.diagnosis().intermediaries()), otlp.registry());
        observability.addCloseConsumer(diagnosis);
        ProxyServer proxy;
        try {
            proxy = ProxyServer.start(config, catalog, observability);
        } catch (Throwable e) { // also the BindException Netty throws sneakily
            diagnosis.close();
            closeLogger.close();
            otlp.close();
            throw e;
        }
        AdminServer admin;
        try {
            admin = AdminServer.start(config.admin(), registry, catalog, observability, recentCloses);
        } catch (Throwable e) {
            proxy.close();
            diagnosis.close();
            closeLogger.close();
            otlp.close();
            throw e;
        }
        admin.setDiagnosis(diagnosis);
        // /readyz turns unready as soon as a drain starts; POST /admin/drain starts one.
        admin.setReadiness(() -> !proxy.draining());
        admin.setDrainHook(proxy::drain);
        return new CloseWatchApp(catalog, config, registry, closeLogger, observability, recentCloses, proxy, admin, diagnosis, otlp);
    }

    /**
     * Makes {@code SIGHUP} (through {@link ReloadSignal}) and {@code POST /admin/reload} re-read
     * {@code file}, with {@code overrides} (the command-line flags) applied each time.
     *
     * @return the reloader, which {@link ReloadSignal#install} can call as well
     */
    public ConfigReloader enableReload(Path file, UnaryOperator<CloseWatchConfig> overrides) {
        ConfigReloader reloader = new ConfigReloader(file, overrides, config, proxy, observability, c -> {
            catalog = c;
            admin.setCatalog(c);
        }, reloadMeters);
        admin.setReloadHook(() -> {
            ConfigReloader.Result r = reloader.reload("admin");
            return new AdminServer.ReloadOutcome(r.applied(), r.text());
        });
        return reloader;
    }

    /** The catalog in use now (a reload may change its custom codes). */
    public CloseCatalog catalog() {
        return catalog;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public Observability observability() {
        return observability;
    }

    /** The most recent close events, as {@code /api/closes} serves them. */
    public RecentCloses recentCloses() {
        return recentCloses;
    }

    public ProxyServer proxy() {
        return proxy;
    }

    public AdminServer admin() {
        return admin;
    }

    /** The timeout-signature detector ({@code GET /api/diagnosis}). */
    public SignatureDetector diagnosis() {
        return diagnosis;
    }

    /**
     * Sets what {@code /readyz} reports (200 {@code ready} while true, 503 {@code draining} once
     * false); {@code () -> true} until called. Evaluated on an admin thread per request.
     */
    public void setReadiness(BooleanSupplier readiness) {
        admin.setReadiness(readiness);
    }

    /**
     * Sets what {@code POST /admin/drain} runs (then answers 202); it must start the drain and
     * return, not wait for it. Until called, the endpoint answers 501.
     */
    public void setDrainHook(Runnable drainHook) {
        admin.setDrainHook(drainHook);
    }

    /**
     * Closes the admin server, then the proxy, then writes the last suppressed-line summaries and
     * sends the last OTLP exports.
     */
    @Override
    public void close() {
        admin.close();
        proxy.close();
        diagnosis.close();
        closeLogger.close();
        otlp.close();
        registry.close();
    }
}
