package dev.closewatch.admin;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The admin connections open now, in accept order, and the bound on them
 * ({@code admin.max_connections}). Touched only on the admin server's one event loop, so it needs
 * no locks.
 *
 * <p>At the bound a new connection evicts the oldest one that has no request in progress, so a
 * health probe always gets in: first one already answered for the last time and lingering, then
 * one still waiting for (or reading) a request head, then an idle keep-alive one, then one whose
 * response the client is slow to take. Connections with a
 * request at a worker or an open event stream are never evicted; their numbers are bounded below
 * {@code admin.max_connections} (see {@code AdminServer}), so there is always something to evict.
 */
final class AdminConnections {

    private final int max;
    private final AdminMeters meters;
    private final LinkedHashSet<AdminConnection> open = new LinkedHashSet<>();

    AdminConnections(int max, AdminMeters meters) {
        this.max = max;
        this.meters = meters;
    }

    /**
     * Admits {@code connection}, evicting another if the bound is reached.
     *
     * @return false if the bound is reached and no connection could be evicted
     */
    boolean admit(AdminConnection connection) {
        if (open.size() >= max) {
            AdminConnection victim = victim();
            if (victim == null) {
                return false;
            }
            open.remove(victim);
            meters.evicted.increment();
            victim.evict();
        }
        open.add(connection);
        return true;
    }

    void remove(AdminConnection connection) {
        open.remove(connection);
    }

    int size() {
        return open.size();
    }

    private AdminConnection victim() {
        for (Set<AdminConnection.State> wanted : AdminConnection.EVICTION_ORDER) {
            for (AdminConnection c : open) {
                if (wanted.contains(c.state())) {
                    return c;
                }
            }
        }
        return null;
    }
}
