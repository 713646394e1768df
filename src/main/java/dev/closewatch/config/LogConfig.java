package dev.closewatch.config;

import org.slf4j.event.Level;

/**
 * Close-log settings.
 *
 * @param normalLevel level of the close line for normal ends (1000, 1001, 1012): default DEBUG
 */
public record LogConfig(Level normalLevel) {

    public LogConfig {
        normalLevel = normalLevel == null ? Level.DEBUG : normalLevel;
    }
}
