package dev.closewatch.observe;

import static java.util.Objects.requireNonNull;

import dev.closewatch.websocket.CloseEvent;
import java.util.Collections;
import java.util.Iterator;
import org.slf4j.Marker;

/**
 * Carries the {@link CloseEvent} behind a close log line to the JSON encoder
 * ({@link EcsJsonProvider}), so the JSON line is written from typed, raw values (the code as a
 * number, the duration in nanoseconds, the close reason unescaped) while the plain pattern keeps
 * rendering the line's key-value pairs. Plain patterns do not print markers. A leaf marker: it
 * has no references.
 */
@SuppressWarnings("deprecation") // SLF4J 2 deprecates Marker's reference methods; the interface still requires them
public final class CloseEventMarker implements Marker {

    /** The marker's name. */
    public static final String NAME = "closewatch.close.event";

    private final CloseEvent event;

    /** A marker carrying {@code event}. */
    public CloseEventMarker(CloseEvent event) {
        this.event = requireNonNull(event, "event");
    }

    /** The session end this line reports. */
    public CloseEvent event() {
        return event;
    }

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public void add(Marker reference) {
        throw new UnsupportedOperationException("a CloseEventMarker has no references");
    }

    @Override
    public boolean remove(Marker reference) {
        return false;
    }

    @Override
    @Deprecated
    public boolean hasChildren() {
        return false;
    }

    @Override
    public boolean hasReferences() {
        return false;
    }

    @Override
    public Iterator<Marker> iterator() {
        return Collections.emptyIterator();
    }

    @Override
    public boolean contains(Marker other) {
        return this.equals(other);
    }

    @Override
    public boolean contains(String name) {
        return NAME.equals(name);
    }

    @Override
    public String toString() {
        return NAME;
    }
}
