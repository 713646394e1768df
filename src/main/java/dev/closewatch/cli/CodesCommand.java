package dev.closewatch.cli;

import dev.closewatch.catalog.CloseCatalog;
import dev.closewatch.catalog.CloseCode;
import dev.closewatch.config.ConfigException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code closewatch codes} — the whole catalog as a table. */
@Command(name = "codes", mixinStandardHelpOptions = true, description = "Print the close-code catalog as a table.")
final class CodesCommand implements Callable<Integer> {

    @Mixin
    CatalogOptions catalogOptions;

    @Override
    public Integer call() {
        CloseCatalog catalog;
        try {
            catalog = catalogOptions.catalog();
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            return ExitCodes.CONFIG;
        }
        String format = "%-11s %-50s %-20s %-13s %-5s %s%n";
        System.out.printf(format, "code", "name", "category", "severity", "wire", "label");
        for (CloseCode e : catalog.entries()) {
            System.out.printf(format, e.rangeText(), e.name(), e.category().label(), e.severity().label(),
                    e.onWire() ? "yes" : "no", e.label());
        }
        for (CloseCode e : catalog.ranges()) {
            System.out.printf(format, e.rangeText(), e.name(), e.category().label(), e.severity().label(),
                    e.onWire() ? "yes" : "no", e.label());
        }
        System.out.println();
        System.out.println("Run 'closewatch explain CODE' for meaning, when you see it and how to fix it.");
        return 0;
    }
}
