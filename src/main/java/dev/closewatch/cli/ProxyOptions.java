package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Options shared by {@code run} and {@code demo}: flags override the configuration file. */
final class ProxyOptions {

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration (see config/closewatch.yaml). Default: none, every key at its default.")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "proxy listen address; overrides the configuration's listen. Default: the configuration's"
                    + " listen, " + CloseWatchConfig.DEFAULT_LISTEN + " (demo: 127.0.0.1:8080).")
    String listen;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "admin address (/metrics, /healthz, /readyz); overrides admin.listen. Default: the"
                    + " configuration's admin.listen, " + dev.closewatch.config.AdminConfig.DEFAULT_LISTEN + ".")
    String admin;

    private ConfigLoader.Loaded loaded;

    /**
     * The configuration file (or defaults) with the flags applied; not yet validated. Keys the file
     * could not read take their defaults, and {@link #validated} reports them.
     *
     * @throws ConfigException if the file is missing, unreadable or not YAML
     */
    CloseWatchConfig load() throws ConfigException {
        loaded = config == null ? null : new ConfigLoader().readAll(config);
        CloseWatchConfig c = loaded == null ? CloseWatchConfig.defaults() : loaded.config();
        if (listen != null) {
            c = c.withListen(listen);
        }
        if (admin != null) {
            c = c.withAdmin(admin);
        }
        return c;
    }

    /**
     * {@code c} if valid, else every problem at once: the file's reading problems, then the
     * validation problems, each with its line in the file.
     */
    CloseWatchConfig validated(CloseWatchConfig c) throws ConfigException {
        List<String> errors = loaded == null ? c.validate() : loaded.problems(c);
        if (!errors.isEmpty()) {
            throw new ConfigException(source(), errors);
        }
        return c;
    }

    String source() {
        return config == null ? "command line" : config.toString();
    }

    /** Which flag or key set the proxy listen address, for an error message. */
    String listenSource() {
        return listen != null ? "--listen" : config != null ? "listen in " + config : "the default listen";
    }

    /** Which flag or key set the admin listen address, for an error message. */
    String adminSource() {
        return admin != null ? "--admin" : config != null ? "admin.listen in " + config : "the default admin.listen";
    }
}
