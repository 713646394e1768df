package dev.closewatch.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A listening socket of the demo's ({@link EchoUpstream}, {@link IdleCutRelay}) with its own
 * one-thread event loop group: bound together, closed together, and on a failed bind the group is
 * shut down before the error is thrown, so no event loop thread outlives it.
 */
final class OneLoopServer implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel listener;

    private OneLoopServer(EventLoopGroup group, Channel listener) {
        this.group = group;
        this.listener = listener;
    }

    /**
     * Binds {@code address} with a {@link ServerBootstrap} that {@code setup} gives its child
     * handler and options (group and channel class are set here).
     *
     * @throws InterruptedException if interrupted while binding
     * @throws java.net.BindException (undeclared, as Netty rethrows it) if the address is taken
     */
    static OneLoopServer bind(InetSocketAddress address, UnaryOperator<ServerBootstrap> setup) throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            ServerBootstrap bootstrap = setup.apply(new ServerBootstrap().group(group).channel(NioServerSocketChannel.class));
            return new OneLoopServer(group, bootstrap.bind(address).sync().channel());
        } catch (Throwable t) {
            shutDown(group);
            throw t;
        }
    }

    /** The bound address. */
    InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Closes the listener, then the connections left and the event loop (waits up to about 1 s). */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        shutDown(group);
    }

    private static void shutDown(EventLoopGroup group) {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
