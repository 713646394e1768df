package dev.closewatch.admin;

import dev.closewatch.admin.AdminExchange.Request;
import dev.closewatch.admin.AdminExchange.Response;
import dev.closewatch.observe.LogText;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of an admin connection: takes whole requests (after the aggregator), one at a
 * time in arrival order (RFC 9112 §9.3.2: pipelined requests are answered in order, up to
 * {@value #MAX_PIPELINED} waiting), hands them to {@link AdminServer#dispatch}, and writes the
 * answers, on the admin event loop whichever thread produced them.
 */
final class AdminRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    /** Requests a client may queue behind the one being answered; one more closes the connection. */
    static final int MAX_PIPELINED = 8;

    private static final Logger LOG = LoggerFactory.getLogger(AdminRequestHandler.class);

    private final AdminServer server;
    private final AdminConnection connection;
    private final AdminMeters meters;
    private final ArrayDeque<FullHttpRequest> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private boolean busy;
    private EventStreamWriter stream;

    AdminRequestHandler(AdminServer server, AdminConnection connection, AdminMeters meters) {
        super(false);
        this.server = server;
        this.connection = connection;
        this.meters = meters;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    AdminConnection connection() {
        return connection;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (stream != null) {
            // after an event stream's head nothing more is answered on this connection
            request.release();
            return;
        }
        if (busy) {
            if (pending.size() >= MAX_PIPELINED) {
                request.release();
                ctx.close();
                return;
            }
            pending.add(request);
            return;
        }
        handle(request);
    }

    private void handle(FullHttpRequest request) {
        busy = true;
        connection.requestReceived();
        try {
            if (request.decoderResult().isFailure()) {
                refuseMalformed(request);
                return;
            }
            if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)
                    && request.headers().getAll(HttpHeaderNames.HOST).size() != 1) {
                refuse(request, Response.of(400, AdminServer.TEXT,
                        "bad request: HTTP/1.1 needs exactly one Host header (RFC 9112 §3.2)\n"), "host");
                return;
            }
            server.dispatch(this, Request.of(request, client()));
        } finally {
            request.release();
        }
    }

    /** A request the decoder could not read (RFC 9112 §2.2, §3; limits of {@code HttpDecoderConfig}): answered, then closed. */
    private void refuseMalformed(FullHttpRequest request) {
        Throwable cause = request.decoderResult().cause();
        Response answer;
        if (cause instanceof TooLongHttpLineException) {
            answer = Response.of(414, AdminServer.TEXT, "request line too long (expected: at most "
                    + AdminServer.MAX_INITIAL_LINE + " bytes)\n");
        } else if (cause instanceof TooLongHttpHeaderException) {
            answer = Response.of(431, AdminServer.TEXT, "request header fields too large (expected: at most "
                    + AdminServer.MAX_HEADER_SIZE + " bytes)\n");
        } else {
            answer = Response.of(400, AdminServer.TEXT, "bad request: not a well-formed HTTP/1.1 request (RFC 9112)\n");
        }
        refuse(request, answer, String.valueOf(cause));
    }

    /** Answers {@code answer}, closes after it, counts and logs why ({@code error}, escaped: it may quote the request). */
    private void refuse(FullHttpRequest request, Response answer, String error) {
        meters.badRequest.increment();
        LOG.atDebug().addKeyValue("event", "admin.bad_request").addKeyValue("client", client())
                .addKeyValue("status", answer.status().code())
                .addKeyValue("error", LogText.escape(error))
                .log("admin request refused");
        Request closing = new Request(request.method().name(), "/", QueryParams.decoder("/"), request.headers(),
                HttpVersion.HTTP_1_1, false, client());
        respond(closing, answer);
    }

    /**
     * Writes {@code answer} to {@code request}, from any thread: {@code HEAD} gets the headers
     * only (RFC 9110 §9.3.2), {@code Connection: close} when the request did not keep the
     * connection alive (then a lingering close), and the next pipelined request is taken up once
     * the client has taken the answer.
     */
    void respond(Request request, Response answer) {
        if (!ctx.executor().inEventLoop()) {
            try {
                ctx.executor().execute(() -> respond(request, answer));
            } catch (RejectedExecutionException e) {
                // the admin server is closing: the connection goes with it
            }
            return;
        }
        if (!ctx.channel().isActive()) {
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status(),
                request.head() ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length);
        for (String[] h : answer.headers()) {
            response.headers().add(h[0], h[1]);
        }
        if (!request.keepAlive()) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (request.version().equals(HttpVersion.HTTP_1_0)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        connection.responseWritten();
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                f.channel().close();
                return;
            }
            busy = false;
            if (!request.keepAlive()) {
                connection.closeAfterResponse();
                return;
            }
            connection.responseDone();
            FullHttpRequest next = pending.poll();
            if (next != null) {
                handle(next);
            }
        });
    }

    /** This connection carries {@code writer}'s event stream from now on. */
    void streaming(EventStreamWriter writer) {
        stream = writer;
        connection.streaming();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (stream != null && ctx.channel().isWritable()) {
            stream.drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        FullHttpRequest r;
        while ((r = pending.poll()) != null) {
            r.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.atDebug().addKeyValue("event", "admin.connection_error").addKeyValue("client", client())
                    .addKeyValue("error", LogText.escape(cause.toString())).log("admin connection error");
        } else {
            LOG.atWarn().addKeyValue("event", "admin.connection_error").addKeyValue("client", client())
                    .addKeyValue("error", LogText.escape(cause.toString())).setCause(cause)
                    .log("admin connection failed");
        }
        ctx.close();
    }

    private String client() {
        return AdminConnection.clientOf(ctx.channel());
    }
}
