package dev.closewatch.observe;

import dev.closewatch.catalog.Severity;
import dev.closewatch.websocket.CloseEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Writes the close log line: one line per session end on logger {@value #LOGGER}, with SLF4J 2
 * key-value pairs in this order: {@code event session route client upstream code name category
 * initiator clean cause reason duration_ms bytes_c2u bytes_u2c remedy}. The default Logback
 * pattern renders them as {@code key="value"}; a JSON encoder renders them as fields.
 *
 * <p>Level by severity: normal ends at the configured level (DEBUG by default), client-side
 * errors INFO, abnormal ends WARN, server-side errors ERROR. The reason is escaped with
 * {@link LogText#escape(String)} so it can never break the line.
 */
public final class CloseLogger {

    /** Logger name of the close line; a contract read by log pipelines. */
    public static final String LOGGER = "closewatch.close";

    private final Logger log = LoggerFactory.getLogger(LOGGER);
    private final Level normalLevel;

    /** @param normalLevel the level for {@link Severity#NORMAL} ends */
    public CloseLogger(Level normalLevel) {
        this.normalLevel = normalLevel;
    }

    /** The level a session end of {@code severity} is logged at. */
    public Level level(Severity severity) {
        return switch (severity) {
            case NORMAL -> normalLevel;
            case CLIENT_ERROR -> Level.INFO;
            case ABNORMAL -> Level.WARN;
            case SERVER_ERROR -> Level.ERROR;
        };
    }

    /** Logs {@code event}, if its level is enabled. */
    public void log(CloseEvent event) {
        Level level = level(event.classification().severity());
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        log.atLevel(level)
                .addKeyValue("event", "websocket.close")
                .addKeyValue("session", event.sessionId())
                .addKeyValue("route", event.route())
                .addKeyValue("client", event.client())
                .addKeyValue("upstream", event.upstream())
                .addKeyValue("code", event.codeText())
                .addKeyValue("name", event.classification().name())
                .addKeyValue("category", event.classification().category().label())
                .addKeyValue("initiator", event.initiator().label())
                .addKeyValue("clean", event.clean())
                .addKeyValue("cause", event.cause().label())
                .addKeyValue("reason", LogText.escape(event.reason()))
                .addKeyValue("duration_ms", event.duration().toMillis())
                .addKeyValue("bytes_c2u", event.bytesClientToUpstream())
                .addKeyValue("bytes_u2c", event.bytesUpstreamToClient())
                .addKeyValue("remedy", event.classification().remedy())
                .log("WebSocket session {} ended: {} {}", event.sessionId(), event.codeText(),
                        event.classification().name());
    }
}
