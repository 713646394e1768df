package dev.closewatch.bench;

import dev.closewatch.bench.jmh.FrameObserverBench;
import dev.closewatch.proxy.HandshakeBench;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link FrameObserverBench} and {@link HandshakeBench} with the gc profiler and reads back
 * one row per frame-observer parameter set and the handshake's one figure.
 */
final class Jmh {

    /**
     * One parameter set's result.
     *
     * @param nsPerFrame  average time per frame
     * @param error       the 99.9% confidence half-width of {@code nsPerFrame} (NaN with one iteration)
     * @param bytesPerSecond wire bytes observed per second
     * @param allocPerFrame bytes allocated per frame ({@code gc.alloc.rate.norm}), NaN if unknown
     */
    record Row(String size, boolean masked, String feed, double nsPerFrame, double error, double bytesPerSecond,
               double allocPerFrame) {
    }

    /**
     * {@link HandshakeBench}: one whole proxied session over {@code EmbeddedChannel}s.
     *
     * @param nsPerSession    average time per session
     * @param error           the 99.9% confidence half-width of {@code nsPerSession} (NaN with one iteration)
     * @param allocPerSession bytes allocated per session ({@code gc.alloc.rate.norm}), NaN if unknown
     */
    record Handshake(double nsPerSession, double error, double allocPerSession) {
    }

    /** Both benchmarks' figures; empty when JMH did not run. */
    record Results(List<Row> frames, Handshake handshake) {
        static final Results NONE = new Results(List.of(), null);
    }

    private Jmh() {
    }

    /** The frame observer, then the handshake; each writes JMH's JSON next to {@code dir/jmh*.json}. */
    static Results run(boolean smoke, Path dir) throws RunnerException {
        return new Results(frames(smoke, dir.resolve("jmh.json")), handshake(smoke, dir.resolve("jmh-handshake.json")));
    }

    /**
     * A session's cost settles only after about 6 s of warm-up (JIT), longer than the frame
     * observer's: 5 iterations of 2 s, then 8 of 1 s.
     */
    private static Handshake handshake(boolean smoke, Path json) throws RunnerException {
        ChainedOptionsBuilder b = options(HandshakeBench.class.getName() + ".session", json, smoke, 5, 2, 8);
        RunResult r = new Runner(b.build()).runSingle();
        Result<?> primary = r.getPrimaryResult();
        Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
        return new Handshake(primary.getScore(), primary.getScoreError(), alloc == null ? Double.NaN : alloc.getScore());
    }

    private static List<Row> frames(boolean smoke, Path json) throws RunnerException {
        ChainedOptionsBuilder b = options(FrameObserverBench.class.getName() + ".observe", json, smoke, 3, 1, 5);
        Collection<RunResult> results = new Runner(b.build()).run();
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            String size = r.getParams().getParam("size");
            boolean masked = Boolean.parseBoolean(r.getParams().getParam("masked"));
            String feed = r.getParams().getParam("feed");
            Result<?> primary = r.getPrimaryResult();
            double ns = primary.getScore();
            Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
            double bps = FrameObserverBench.wireBytes(size, masked) / (ns * 1e-9);
            rows.add(new Row(size, masked, feed, ns, primary.getScoreError(), bps,
                    alloc == null ? Double.NaN : alloc.getScore()));
        }
        List<String> order = List.of("small", "medium", "large");
        rows.sort(Comparator.comparing((Row r) -> order.indexOf(r.size())).thenComparing(r -> !r.masked())
                .thenComparing(r -> !"whole".equals(r.feed())));
        return rows;
    }

    /**
     * JMH options for the benchmarks matching {@code include}, with the gc profiler and JSON results
     * in {@code json}: in a fork, {@code warmups} iterations of {@code warmupSeconds} and
     * {@code measurements} of 1 s; in smoke mode one 100 ms iteration in this JVM.
     */
    private static ChainedOptionsBuilder options(String include, Path json, boolean smoke, int warmups, int warmupSeconds,
                                                 int measurements) {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(include)
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true)
                .result(json.toString())
                .resultFormat(ResultFormatType.JSON);
        if (smoke) {
            return b.forks(0).warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(100));
        }
        return b.forks(1).warmupIterations(warmups).warmupTime(TimeValue.seconds(warmupSeconds))
                .measurementIterations(measurements).measurementTime(TimeValue.seconds(1));
    }
}
