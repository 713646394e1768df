package dev.closewatch.cli;

import dev.closewatch.config.HostPort;
import dev.closewatch.demo.EchoUpstream;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code closewatch echo-upstream} — the demo's WebSocket echo upstream on its own, for a demo
 * across processes or containers ({@code demo --upstream ws://HOST:PORT}).
 */
@Command(name = "echo-upstream", mixinStandardHelpOptions = true,
        description = "Run the demo's WebSocket echo upstream (echoes frames; obeys 'close CODE REASON', "
                + "'close-empty' and 'drop' text commands) until SIGTERM.")
final class EchoUpstreamCommand implements Callable<Integer> {

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9000",
            description = "listen address (default: ${DEFAULT-VALUE})")
    String listen;

    @Override
    public Integer call() throws Exception {
        HostPort address;
        try {
            address = HostPort.parse(listen);
        } catch (IllegalArgumentException e) {
            System.err.println("closewatch: --listen " + e.getMessage());
            return 2;
        }
        EchoUpstream upstream = EchoUpstream.start(address.toSocketAddress());
        System.out.println("closewatch echo upstream listening on ws://" + address.host() + ":" + upstream.address().getPort());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            upstream.close();
            stopped.countDown();
        }, "closewatch-echo-upstream-shutdown"));
        stopped.await();
        return 0;
    }
}
