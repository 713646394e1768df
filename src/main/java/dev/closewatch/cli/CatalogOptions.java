package dev.closewatch.cli;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import dev.closewatch.config.CustomCodeConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE} for commands that only need the catalog (with the file's own codes). */
final class CatalogOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "also show the custom codes of this configuration (its codes: and each route's). Default: none,"
                    + " the built-in catalog only.")
    Path config;

    CloseCatalog catalog() throws ConfigException {
        CloseCatalog catalog = CloseCatalog.loadDefault();
        if (config == null) {
            return catalog;
        }
        // A catalog file needs no routes (config/example-catalog.yaml has only codes:): the
        // reading problems and the codes' own problems are the ones that matter here.
        ConfigLoader.Loaded loaded = new ConfigLoader().readAll(config);
        var c = loaded.config();
        java.util.List<String> problems = new java.util.ArrayList<>(loaded.errors());
        loaded.problems(c).stream().skip(loaded.errors().size())
                .filter(p -> p.matches("(line \\d+: )?(routes\\[\\d+\\]\\.)?codes\\[.*")).forEach(problems::add);
        if (!problems.isEmpty()) {
            throw new ConfigException(config.toString(), problems);
        }
        // Route-only codes too, so `explain` knows them; a top-level code wins over a route's.
        java.util.Map<Integer, CustomCodeConfig> all = new java.util.TreeMap<>();
        c.routes().forEach(r -> r.codes().forEach(code -> all.putIfAbsent(code.code(), code)));
        c.codes().forEach(code -> all.put(code.code(), code));
        return catalog.withCustomCodes(all.values().stream().map(CustomCodeConfig::toCloseCode).toList());
    }
}
