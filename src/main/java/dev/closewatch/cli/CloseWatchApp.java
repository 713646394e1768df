package dev.closewatch.cli;

import dev.closewatch.admin.AdminServer;
import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.CustomCodeConfig;
import dev.closewatch.config.HostPort;
import dev.closewatch.observe.CloseLogger;
import dev.closewatch.observe.Observability;
import dev.closewatch.observe.Registries;
import dev.closewatch.proxy.ProxyServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.List;

/**
 * A running closewatch: the catalog (with the configuration's own codes), the Prometheus
 * registry, the proxy listener and the admin server, started together and closed together.
 */
public final class CloseWatchApp implements AutoCloseable {

    private final CloseCatalog catalog;
    private final PrometheusMeterRegistry registry;
    private final Observability observability;
    private final ProxyServer proxy;
    private final AdminServer admin;

    private CloseWatchApp(CloseCatalog catalog, PrometheusMeterRegistry registry, Observability observability,
                          ProxyServer proxy, AdminServer admin) {
        this.catalog = catalog;
        this.registry = registry;
        this.observability = observability;
        this.proxy = proxy;
        this.admin = admin;
    }

    /**
     * Starts closewatch on a validated configuration.
     *
     * @throws IOException          if the admin address cannot be bound
     * @throws InterruptedException if interrupted while binding
     */
    public static CloseWatchApp start(CloseWatchConfig config) throws IOException, InterruptedException {
        List<String> errors = config.validate();
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid configuration: " + errors);
        }
        CloseCatalog catalog = CloseCatalog.loadDefault()
                .withCustomCodes(config.codes().stream().map(CustomCodeConfig::toCloseCode).toList());
        PrometheusMeterRegistry registry = Registries.prometheus();
        Observability observability = new Observability(registry, new CloseLogger(config.log().normalLevel()));
        observability.publishCatalog(catalog);
        ProxyServer proxy = ProxyServer.start(config, catalog, observability);
        AdminServer admin;
        try {
            admin = AdminServer.start(HostPort.parse(config.admin().listen()), registry);
        } catch (IOException | RuntimeException e) {
            proxy.close();
            throw e;
        }
        return new CloseWatchApp(catalog, registry, observability, proxy, admin);
    }

    public CloseCatalog catalog() {
        return catalog;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public Observability observability() {
        return observability;
    }

    public ProxyServer proxy() {
        return proxy;
    }

    public AdminServer admin() {
        return admin;
    }

    @Override
    public void close() {
        admin.close();
        proxy.close();
        registry.close();
    }
}
