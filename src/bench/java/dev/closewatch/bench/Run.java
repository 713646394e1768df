package dev.closewatch.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One scenario run against one target in one round.
 *
 * @param scenario {@code echo}, {@code stream}, {@code churn} or {@code idle}
 * @param target   {@code direct}, {@code closewatch} or {@code nginx}
 * @param round    1-based; runs of one round are interleaved A B C, so they share the machine's state
 * @param figures  named figures (units in the name: {@code _per_s}, {@code _us}, {@code _kib}, …)
 * @param details  what else the report shows: close counts, failures
 */
record Run(String scenario, String target, int round, Map<String, Double> figures, Map<String, Object> details) {

    Run(String scenario, String target, int round) {
        this(scenario, target, round, new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    Double figure(String name) {
        return figures.get(name);
    }
}
