package dev.closewatch.config;

/**
 * HTTP parsing limits for requests (the opening handshake and plain HTTP).
 *
 * @param maxInitialLineLength longest request line in bytes (default 8192)
 * @param maxHeaderSize        largest header block in bytes (default 16384)
 */
public record LimitsConfig(Integer maxInitialLineLength, Integer maxHeaderSize) {

    public LimitsConfig {
        maxInitialLineLength = maxInitialLineLength == null ? 8192 : maxInitialLineLength;
        maxHeaderSize = maxHeaderSize == null ? 16384 : maxHeaderSize;
    }
}
