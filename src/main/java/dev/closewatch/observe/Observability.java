package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import dev.closewatch.config.ReconnectConfig;
import dev.closewatch.diagnose.reconnect.ReconnectMeters;
import dev.closewatch.diagnose.reconnect.ReconnectTracker;
import dev.closewatch.diagnose.top.TopOffenders;
import dev.closewatch.websocket.CloseEvent;
import dev.closewatch.websocket.Direction;
import dev.closewatch.websocket.SessionFacts;
import dev.closewatch.websocket.SessionListener;
import dev.closewatch.websocket.Violation;
import dev.closewatch.websocket.WebSocketSession;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where session events end up: per-route meters, the close log line, the {@link OpenSessions}
 * table, the reconnect tracker and top offenders (keyed by the session's
 * {@link dev.closewatch.websocket.SessionFacts}), and any registered close-event consumers (the demo's live table, the admin API's
 * {@link RecentCloses} ring and event stream, tests).
 */
public final class Observability {

    private static final Logger LOG = LoggerFactory.getLogger(Observability.class);

    /** The window of {@link #topOffenders()}. */
    public static final Duration TOP_WINDOW = Duration.ofMinutes(10);

    private final MeterRegistry registry;
    private final CloseLogger closeLogger;
    private final Map<String, RouteMeters> routes = new ConcurrentHashMap<>();
    private final List<Consumer<CloseEvent>> closeConsumers = new CopyOnWriteArrayList<>();
    private final List<java.util.function.BiConsumer<SessionFacts, CloseEvent>> endConsumers = new CopyOnWriteArrayList<>();
    private final OpenSessions openSessions = new OpenSessions();
    private final ReconnectMeters reconnectMeters;
    private volatile ReconnectTracker reconnects;
    private final TopOffenders topOffenders;

    public Observability(MeterRegistry registry, CloseLogger closeLogger) {
        this.registry = requireNonNull(registry, "registry");
        this.closeLogger = requireNonNull(closeLogger, "closeLogger");
        this.reconnectMeters = new ReconnectMeters(registry);
        this.reconnects = new ReconnectTracker(new ReconnectConfig(null, null, null, null), reconnectMeters, System::nanoTime);
        this.topOffenders = new TopOffenders(TOP_WINDOW, System::nanoTime);
    }

    /**
     * Applies {@code reconnect:}; a changed configuration starts a new, empty tracker (the meters
     * carry on).
     */
    public synchronized void configureDiagnosis(ReconnectConfig config) {
        if (!reconnects.config().equals(requireNonNull(config, "config"))) {
            reconnects = new ReconnectTracker(config, reconnectMeters, System::nanoTime);
        }
    }

    /** Reconnect delays and storms per client key ({@code GET /api/reconnects}). */
    public ReconnectTracker reconnects() {
        return reconnects;
    }

    /** Heavy hitters of session ends ({@code GET /api/top}). */
    public TopOffenders topOffenders() {
        return topOffenders;
    }

    /**
     * Publishes the catalog as {@code closewatch_close_code_info{code,name,category,severity,remedy} 1},
     * one series per metric label value, so dashboards can join names and remedies onto
     * {@code closewatch_closes_total} by {@code code}.
     */
    public void publishCatalog(dev.closewatch.catalog.CloseCatalog catalog) {
        java.util.List<dev.closewatch.catalog.CloseCode> all = new java.util.ArrayList<>(catalog.entries());
        all.addAll(catalog.ranges());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (dev.closewatch.catalog.CloseCode c : all) {
            if (!seen.add(c.label())) {
                continue;
            }
            io.micrometer.core.instrument.Gauge.builder(MeterNames.CLOSE_CODE_INFO, () -> 1)
                    .description("The close-code catalog: name, category, severity and remedy per code label")
                    .tags(MeterNames.TAG_CODE, c.label(), MeterNames.TAG_NAME, c.name(),
                            MeterNames.TAG_CATEGORY, c.category().label(), MeterNames.TAG_SEVERITY, c.severity().label(),
                            MeterNames.TAG_REMEDY, c.remedy())
                    .register(registry);
        }
    }

    /** The close log line writer. */
    public CloseLogger closeLogger() {
        return closeLogger;
    }

    /** The sessions open now, on every route. */
    public OpenSessions openSessions() {
        return openSessions;
    }

    /** The registry the meters live in. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The meters of {@code route}, created on first call. */
    public RouteMeters route(String route) {
        return routes.computeIfAbsent(route, r -> new RouteMeters(r, registry));
    }

    /** Adds a consumer called with every close event, on the session's event loop; keep it quick. */
    public void addCloseConsumer(Consumer<CloseEvent> consumer) {
        closeConsumers.add(requireNonNull(consumer, "consumer"));
    }

    /**
     * Adds a consumer called with every close event and what the opening handshake said about its
     * client ({@link SessionFacts#NONE} for a 1015 before the session opened), on the session's
     * event loop; keep it quick (the OTLP log export only enqueues).
     */
    public void addSessionEndConsumer(java.util.function.BiConsumer<SessionFacts, CloseEvent> consumer) {
        endConsumers.add(requireNonNull(consumer, "consumer"));
    }

    /** Removes a consumer added with {@link #addCloseConsumer(Consumer)}. */
    public void removeCloseConsumer(Consumer<CloseEvent> consumer) {
        closeConsumers.remove(consumer);
    }

    /** A session listener recording into {@code route}'s meters. */
    public SessionListener sessionListener(String route) {
        RouteMeters meters = route(route);
        return new SessionListener() {
            @Override
            public void onOpen(WebSocketSession session) {
                meters.sessionOpened();
                openSessions.opened(session);
                reconnects.opened(route, session.facts().clientKey());
            }

            @Override
            public void onViolation(WebSocketSession session, Direction direction, Violation violation) {
                meters.violation(direction, violation);
            }

            @Override
            public void onClose(CloseEvent event) {
                closed(SessionFacts.NONE, System.nanoTime(), event);
            }

            @Override
            public void onClose(WebSocketSession session, CloseEvent event) {
                closed(session.facts(), session.clientClosedNanos(), event);
            }

            private void closed(SessionFacts facts, long clientClosedNanos, CloseEvent event) {
                reconnects.closed(facts.clientKey(), event, clientClosedNanos);
                topOffenders.record(facts, event.classification().category());
                meters.sessionClosed(event.classification(), event.initiator(), event.cause().label(), event.duration(),
                        event.closeHandshakeDuration(), event.closeFrameSeen() && !event.clean());
                openSessions.closed(event);
                closeLogger.log(event);
                publish(event);
                publishEnd(facts, event);
            }

            /*
             * A 1015 before the session opened (failed TLS handshake): the close line, the
             * recent-closes ring and the event stream get it like any session end. No session was
             * counted open, so RouteMeters.sessionClosed (which decrements the active gauge) does
             * not apply; RouteMeters has no close-without-open counter yet.
             */
            @Override
            public void onOpenFailed(CloseEvent event) {
                meters.openFailed(event.classification(), event.initiator(), event.cause().label());
                closeLogger.log(event);
                publish(event);
                publishEnd(SessionFacts.NONE, event);
            }
        };
    }

    private void publishEnd(SessionFacts facts, CloseEvent event) {
        for (java.util.function.BiConsumer<SessionFacts, CloseEvent> consumer : endConsumers) {
            try {
                consumer.accept(facts, event);
            } catch (RuntimeException e) {
                LOG.warn("session-end consumer {} failed on session {}", consumer, event.sessionId(), e);
            }
        }
    }

    private void publish(CloseEvent event) {
        for (Consumer<CloseEvent> consumer : closeConsumers) {
            try {
                consumer.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("close-event consumer {} failed on session {}", consumer, event.sessionId(), e);
            }
        }
    }
}
