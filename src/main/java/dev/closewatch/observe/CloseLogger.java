package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import dev.closewatch.catalog.Severity;
import dev.closewatch.websocket.CloseEvent;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Writes the close log line: one line per session end on logger {@value #LOGGER}, with SLF4J 2
 * key-value pairs in this order: {@code event session route client upstream code name category
 * initiator clean cause answer_code reason duration_ms client_idle_ms upstream_idle_ms idle_ms
 * bytes_c2u bytes_u2c remedy}
 * ({@code answer_code}: the answering Close frame's code, empty when none answered; the idle
 * fields: milliseconds from the last bytes read from the client, from the upstream, and from
 * either, to the end; the byte
 * fields: bytes delivered to the other side, the proxy's own frames included). The default Logback
 * pattern renders them as {@code key="value"}; a JSON encoder renders them as fields.
 *
 * <p>Level by severity: normal ends at the configured level (DEBUG by default), client-side
 * errors INFO, abnormal ends WARN, server-side errors ERROR. The reason is escaped with
 * {@link LogText#escape(String)} so it can never break the line. The line also carries a
 * {@link CloseEventMarker}: the JSON encoder ({@link EcsJsonProvider}, config/logback-json.xml)
 * writes the Elastic Common Schema fields from the event itself, typed and escaped once (by JSON).
 *
 * <p>Under a storm, lines are rate-limited per category by a {@link CloseLogRateLimiter}; what it
 * suppresses is reported by {@link #flushSuppressed()} as one line per category on the same
 * logger: {@code event=websocket.close.suppressed category suppressed interval_s}, at the most
 * severe level among the suppressed lines. {@link #start} calls it every summary interval on a
 * daemon thread, and {@link #close()} once more, so the counts are written even when the storm
 * stops. Lines whose level is disabled are neither written nor counted.
 */
public final class CloseLogger implements AutoCloseable {

    /** Logger name of the close line; a contract read by log pipelines. */
    public static final String LOGGER = "closewatch.close";
    /** The {@code event} value of the close line. */
    public static final String EVENT_CLOSE = "websocket.close";
    /** The {@code event} value of the "suppressed N lines" summary. */
    public static final String EVENT_SUPPRESSED = "websocket.close.suppressed";

    private final Logger log = LoggerFactory.getLogger(LOGGER);
    private volatile Level normalLevel;
    private volatile CloseLogRateLimiter limiter;
    /** Guarded by {@code this}: a configuration reload may start or reschedule the summaries. */
    private ScheduledExecutorService summaries;
    private ScheduledFuture<?> summaryTask;
    private boolean closed;

    /**
     * A logger writing every line (no rate limit).
     *
     * @param normalLevel the level for {@link Severity#NORMAL} ends
     */
    public CloseLogger(Level normalLevel) {
        this(normalLevel, CloseLogRateLimiter.unlimited());
    }

    /**
     * A logger rate-limited by {@code limiter}; the caller writes the summaries by calling
     * {@link #flushSuppressed()}.
     *
     * @param normalLevel the level for {@link Severity#NORMAL} ends
     * @param limiter     decides which lines are written
     */
    public CloseLogger(Level normalLevel, CloseLogRateLimiter limiter) {
        this(normalLevel, limiter, null);
    }

    private CloseLogger(Level normalLevel, CloseLogRateLimiter limiter, ScheduledExecutorService summaries) {
        this.normalLevel = requireNonNull(normalLevel, "normalLevel");
        this.limiter = requireNonNull(limiter, "limiter");
        this.summaries = summaries;
    }

    /**
     * A rate-limited logger that writes the "suppressed N lines" summaries every
     * {@code summaryInterval} from a daemon thread ({@code closewatch-close-log}); close it to
     * stop the thread and write the last summaries.
     *
     * @param normalLevel     the level for {@link Severity#NORMAL} ends
     * @param linesPerSecond  sustained lines per second per category; 0 writes every line (and
     *                        starts no thread)
     * @param burst           lines per category that may be written at once, at least 1
     * @param summaryInterval how often summaries are written, &gt; 0
     * @throws IllegalArgumentException if a limit is out of range
     */
    public static CloseLogger start(Level normalLevel, long linesPerSecond, long burst, Duration summaryInterval) {
        if (summaryInterval.isZero() || summaryInterval.isNegative()) {
            throw new IllegalArgumentException("summaryInterval: " + summaryInterval + " (expected: > 0)");
        }
        CloseLogRateLimiter limiter = new CloseLogRateLimiter(linesPerSecond, burst, System::nanoTime);
        if (linesPerSecond == 0) {
            return new CloseLogger(normalLevel, limiter);
        }
        CloseLogger logger = new CloseLogger(normalLevel, limiter, summaryThread());
        synchronized (logger) {
            logger.schedule(summaryInterval);
        }
        return logger;
    }

    private static ScheduledExecutorService summaryThread() {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "closewatch-close-log");
            t.setDaemon(true);
            return t;
        });
    }

    /** Writes the summaries every {@code interval} from now on; called holding {@code this}. */
    private void schedule(Duration interval) {
        if (summaryTask != null) {
            summaryTask.cancel(false);
        }
        long nanos = interval.toNanos();
        summaryTask = summaries.scheduleAtFixedRate(this::flushSuppressed, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Applies reloaded {@code log} settings to the lines written from now on, whichever session
     * they end: the summaries of lines suppressed so far are written first, then the new level,
     * rate limit and summary interval take over. Ignored once closed.
     *
     * @param normalLevel     the level for {@link Severity#NORMAL} ends
     * @param linesPerSecond  sustained lines per second per category; 0 writes every line
     * @param burst           lines per category that may be written at once, at least 1
     * @param summaryInterval how often summaries are written, &gt; 0
     * @throws IllegalArgumentException if a limit is out of range
     */
    public void reconfigure(Level normalLevel, long linesPerSecond, long burst, Duration summaryInterval) {
        requireNonNull(normalLevel, "normalLevel");
        if (summaryInterval.isZero() || summaryInterval.isNegative()) {
            throw new IllegalArgumentException("summaryInterval: " + summaryInterval + " (expected: > 0)");
        }
        CloseLogRateLimiter next = new CloseLogRateLimiter(linesPerSecond, burst, System::nanoTime);
        synchronized (this) {
            if (closed) {
                return;
            }
            flushSuppressed();
            this.normalLevel = normalLevel;
            this.limiter = next;
            if (linesPerSecond == 0) {
                if (summaryTask != null) {
                    summaryTask.cancel(false);
                    summaryTask = null;
                }
            } else {
                if (summaries == null) {
                    summaries = summaryThread();
                }
                schedule(summaryInterval);
            }
        }
    }

    /** The limiter deciding which lines are written. */
    public CloseLogRateLimiter limiter() {
        return limiter;
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

    /** Logs {@code event}, if its level is enabled and its category's rate limit allows. */
    public void log(CloseEvent event) {
        Level level = level(event.classification().severity());
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        if (!limiter.tryAcquire(event.classification().category(), level)) {
            return;
        }
        log.atLevel(level)
                .addMarker(new CloseEventMarker(event))
                .addKeyValue("event", EVENT_CLOSE)
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
                .addKeyValue("answer_code", event.answerCodeText())
                .addKeyValue("reason", LogText.escape(event.reason()))
                .addKeyValue("duration_ms", event.duration().toMillis())
                .addKeyValue("client_idle_ms", event.clientIdle().toMillis())
                .addKeyValue("upstream_idle_ms", event.upstreamIdle().toMillis())
                .addKeyValue("idle_ms", event.idle().toMillis())
                .addKeyValue("bytes_c2u", event.bytesClientToUpstream())
                .addKeyValue("bytes_u2c", event.bytesUpstreamToClient())
                .addKeyValue("remedy", event.classification().remedy())
                .log("WebSocket session {} ended: {} {}", event.sessionId(), event.codeText(),
                        event.classification().name());
    }

    /**
     * Writes one summary line per category whose lines were suppressed since the previous call:
     * {@code event=websocket.close.suppressed category=abnormal suppressed=9900 interval_s=10},
     * where {@code interval_s} is the time since the previous summary in whole seconds (rounded,
     * at least 1). Writes nothing when nothing was suppressed.
     */
    public synchronized void flushSuppressed() {
        try {
            for (CloseLogRateLimiter.Suppressed s : limiter.drainSuppressed()) {
                long seconds = Math.max(1, Math.round(s.window().toMillis() / 1000.0));
                log.atLevel(s.level())
                        .addKeyValue("event", EVENT_SUPPRESSED)
                        .addKeyValue("category", s.category().label())
                        .addKeyValue("suppressed", s.lines())
                        .addKeyValue("interval_s", seconds)
                        .log("{} close log lines of category {} suppressed in the last {} s (log.rate_limit)",
                                s.lines(), s.category().label(), seconds);
            }
        } catch (RuntimeException e) {
            // on the scheduler thread an exception would silently cancel every later summary
            LoggerFactory.getLogger(CloseLogger.class).warn("writing the suppressed close-line summary failed", e);
        }
    }

    /** Stops the summary thread, if any, and writes the last summaries. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        synchronized (this) {
            if (summaries != null) {
                summaries.shutdownNow();
            }
        }
        flushSuppressed();
    }
}
