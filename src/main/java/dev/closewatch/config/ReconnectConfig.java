package dev.closewatch.config;

import java.time.Duration;
import java.util.List;

/**
 * Reconnect tracking ({@code reconnect:}): which value identifies a client, how many clients are
 * remembered, how soon after a session's end a new session counts as its reconnect, and how many
 * reconnects in a row without back-off make a reconnect storm.
 *
 * @param key        where the client key comes from: {@code address} (the client address — the
 *                   PROXY header's source or the trusted {@code X-Forwarded-For} client when those
 *                   are in use), {@code header:NAME}, {@code cookie:NAME} or {@code query:NAME} of
 *                   the opening handshake's request (default {@code address}); see
 *                   {@link ClientKeySource}
 * @param maxKeys    clients remembered at most, least recently seen evicted first (default 100000)
 * @param window     a session opened within this time after the same key's previous session
 *                   ended is a reconnect (default 10m)
 * @param stormAfter reconnects in a row after abnormal or server-side closes, with delays that do
 *                   not grow, that make a key a reconnect storm (default 5)
 */
public record ReconnectConfig(String key, Integer maxKeys, Duration window, Integer stormAfter) {

    public ReconnectConfig {
        key = key == null ? "address" : key;
        maxKeys = maxKeys == null ? 100_000 : maxKeys;
        window = window == null ? Duration.ofMinutes(10) : window;
        stormAfter = stormAfter == null ? 5 : stormAfter;
    }

    /** {@link #key} parsed; call after {@link #validate} found nothing. */
    public ClientKeySource keySource() {
        return ClientKeySource.parse(key);
    }

    void validate(List<String> errors) {
        try {
            ClientKeySource.parse(key);
        } catch (IllegalArgumentException e) {
            errors.add("reconnect.key: " + e.getMessage());
        }
        if (maxKeys < 1 || maxKeys > 10_000_000) {
            errors.add("reconnect.max_keys: " + maxKeys + " (expected: 1-10000000)");
        }
        if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
            errors.add("reconnect.window: " + window + " (expected: 1s-1d, e.g. 10m)");
        }
        if (stormAfter < 2 || stormAfter > 1000) {
            errors.add("reconnect.storm_after: " + stormAfter + " (expected: 2-1000)");
        }
    }
}
