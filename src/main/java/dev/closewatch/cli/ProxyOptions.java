package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Options shared by {@code run} and {@code demo}: flags override the configuration file. */
final class ProxyOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration (see config/closewatch.yaml)")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "proxy listen address")
    String listen;

    @Option(names = "--admin", paramLabel = "HOST:PORT", description = "admin address (/metrics, /healthz, /readyz)")
    String admin;

    /** The configuration file (or defaults) with the flags applied; not yet validated. */
    CloseWatchConfig load() throws ConfigException {
        CloseWatchConfig c = config == null ? CloseWatchConfig.defaults() : new ConfigLoader().read(config);
        if (listen != null) {
            c = c.withListen(listen);
        }
        if (admin != null) {
            c = c.withAdmin(admin);
        }
        return c;
    }

    static CloseWatchConfig validated(CloseWatchConfig c, String source) throws ConfigException {
        List<String> errors = c.validate();
        if (!errors.isEmpty()) {
            throw new ConfigException(source, errors);
        }
        return c;
    }

    String source() {
        return config == null ? "command line" : config.toString();
    }
}
