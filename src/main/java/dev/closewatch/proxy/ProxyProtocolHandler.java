package dev.closewatch.proxy;

import dev.closewatch.observe.LogText;
import dev.closewatch.observe.RequestRejections;
import dev.closewatch.observe.RequestRejections.Reason;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the PROXY protocol header (HAProxy's PROXY protocol, versions 1 and 2) that a TCP
 * balancer sends before anything else on a connection, behind Netty's {@link HAProxyMessageDecoder}:
 * a {@code PROXY} command over TCP/IPv4 or TCP/IPv6 makes its source address the connection's
 * client ({@link ClientAddress#PROXIED}); a {@code LOCAL} command (the balancer's own health check)
 * or an {@code UNKNOWN} protocol keeps the TCP peer, as the specification asks. The header is
 * consumed here and never forwarded upstream. A connection whose first bytes are not a valid
 * header is closed without an answer (the decoder closes it; the specification forbids guessing)
 * and counted as {@code closewatch_requests_rejected_total{reason="proxy_protocol"}}. Removes
 * itself after the header.
 */
final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyProtocolHandler.class);

    private final RequestRejections rejections;
    private boolean failed;

    ProxyProtocolHandler(RequestRejections rejections) {
        this.rejections = rejections;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            // Bytes behind the header, handed on when the decoder removed itself.
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (header.command() == HAProxyCommand.PROXY && (header.proxiedProtocol() == HAProxyProxiedProtocol.TCP4
                    || header.proxiedProtocol() == HAProxyProxiedProtocol.TCP6)) {
                byte[] bytes = NetUtil.createByteArrayFromIpAddressString(header.sourceAddress());
                if (bytes != null) {
                    ctx.channel().attr(ClientAddress.PROXIED).set(
                            new InetSocketAddress(InetAddress.getByAddress(bytes), header.sourcePort()));
                }
            }
        } catch (java.net.UnknownHostException e) {
            // Unreachable: the decoder checked the address; the TCP peer stays the client.
        } finally {
            ReferenceCountUtil.release(header);
        }
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof DecoderException)) {
            // Not about the header (a reset while it was due): the handlers behind decide.
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (!failed) {
            failed = true;
            rejections.rejected(Reason.PROXY_PROTOCOL);
            LOG.atInfo().addKeyValue("event", "proxy_protocol.rejected").addKeyValue("connection", ctx.channel().id().asShortText())
                    .addKeyValue("client", BackendHandler.address(ctx.channel().remoteAddress()))
                    .addKeyValue("detail", LogText.escape(String.valueOf(cause.getMessage())))
                    .log("connection without a valid PROXY protocol header closed");
        }
        ctx.close();
    }
}
