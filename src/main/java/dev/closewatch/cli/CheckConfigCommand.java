package dev.closewatch.cli;

import dev.closewatch.config.CloseWatchConfig;
import dev.closewatch.config.ConfigException;
import dev.closewatch.config.ConfigLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code closewatch check-config FILE} — validates a configuration and prints every error in one
 * pass: YAML syntax, unknown keys (with a "did you mean"), values of the wrong type and values
 * out of range, each with its line and key path.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate a configuration file; print every error with its line and key path.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {" 0:the configuration is valid", " 2:usage error", "78:the configuration has errors (all listed)"})
final class CheckConfigCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "the YAML configuration to check")
    Path file;

    @Override
    public Integer call() {
        try {
            CloseWatchConfig config = new ConfigLoader().load(file);
            System.out.println(file + ": OK (" + config.routes().size() + " route(s), " + config.codes().size()
                    + " custom code(s))");
            return ExitCodes.OK;
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return ExitCodes.CONFIG;
        }
    }
}
