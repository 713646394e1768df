package dev.closewatch.cli;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import dev.closewatch.config.CustomCodeConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE} for commands that only need the catalog (with the file's own codes). */
final class CatalogOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "also show the custom codes of this configuration")
    Path config;

    CloseCatalog catalog() throws ConfigException {
        CloseCatalog catalog = CloseCatalog.loadDefault();
        if (config == null) {
            return catalog;
        }
        var c = ProxyOptions.validated(new ConfigLoader().read(config), config.toString());
        // Route-only codes too, so `explain` knows them; a top-level code wins over a route's.
        java.util.Map<Integer, CustomCodeConfig> all = new java.util.TreeMap<>();
        c.routes().forEach(r -> r.codes().forEach(code -> all.putIfAbsent(code.code(), code)));
        c.codes().forEach(code -> all.put(code.code(), code));
        return catalog.withCustomCodes(all.values().stream().map(CustomCodeConfig::toCloseCode).toList());
    }
}
