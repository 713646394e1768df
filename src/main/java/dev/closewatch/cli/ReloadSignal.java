package dev.closewatch.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code SIGHUP} re-reads the configuration ({@link ConfigReloader}) instead of stopping the JVM,
 * as daemons conventionally do. The outcome goes to the log only
 * ({@code event=config.reload trigger=sighup}); a signal has nobody to answer.
 */
final class ReloadSignal {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadSignal.class);

    private ReloadSignal() {
    }

    /**
     * Replaces the JVM's {@code SIGHUP} handling (which would run the shutdown hooks) with a reload.
     * Where the platform has no {@code SIGHUP} (Windows) or the JVM runs with {@code -Xrs}, logs
     * that and does nothing.
     */
    static void install(ConfigReloader reloader) {
        try {
            Signals.handle("HUP", signal -> reloader.reload("sighup"));
            LOG.atInfo().addKeyValue("event", "config.reload.ready").addKeyValue("file", reloader.file())
                    .log("SIGHUP or POST /admin/reload re-reads the configuration file");
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.warn("SIGHUP cannot be handled here ({}); reload with POST /admin/reload", e.getMessage());
        }
    }
}
