package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code closewatch check-config FILE} — validates a configuration and prints every error. */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate a configuration file; print every error with its key path. Exit 0 if valid, 2 if not.")
final class CheckConfigCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() {
        try {
            CloseWatchConfig config = new ConfigLoader().read(file);
            List<String> errors = config.validate();
            if (!errors.isEmpty()) {
                throw new ConfigException(file.toString(), errors);
            }
            System.out.println(file + ": OK (" + config.routes().size() + " route(s), " + config.codes().size()
                    + " custom code(s))");
            return 0;
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return 2;
        }
    }
}
