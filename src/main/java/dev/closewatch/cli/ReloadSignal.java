package dev.closewatch.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

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
    @SuppressWarnings("sunapi") // sun.misc.Signal is the JDK's only way to handle a signal (jdk.unsupported)
    static void install(ConfigReloader reloader) {
        try {
            Signal.handle(new Signal("HUP"), signal -> reloader.reload("sighup"));
            LOG.atInfo().addKeyValue("event", "config.reload.ready").addKeyValue("file", reloader.file())
                    .log("SIGHUP or POST /admin/reload re-reads the configuration file");
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.warn("SIGHUP cannot be handled here ({}); reload with POST /admin/reload", e.getMessage());
        }
    }
}
