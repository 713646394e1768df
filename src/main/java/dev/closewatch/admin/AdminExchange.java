package dev.closewatch.admin;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The parts of an admin request and response the endpoints need, free of Netty buffers. */
final class AdminExchange {

    private AdminExchange() {
    }

    /**
     * One decoded request: {@code path} percent-decoded, {@code target} for its query,
     * {@code keepAlive} as RFC 9112 §9.3 says for its version and {@code Connection} header.
     */
    record Request(String method, String path, QueryStringDecoder target, HttpHeaders headers, HttpVersion version,
                   boolean keepAlive, String client) {

        static Request of(FullHttpRequest request, String client) {
            QueryStringDecoder target = QueryParams.decoder(originForm(request.uri()));
            return new Request(request.method().name(), target.path(), target, request.headers(),
                    request.protocolVersion(), HttpUtil.isKeepAlive(request), client);
        }

        boolean head() {
            return "HEAD".equals(method);
        }

        /** The absolute form ({@code http://host/path?q}, RFC 9112 §3.2.2) reduced to its path and query. */
        private static String originForm(String uri) {
            int scheme = uri.indexOf("://");
            if (scheme <= 0 || uri.startsWith("/")) {
                return uri;
            }
            int path = uri.indexOf('/', scheme + 3);
            int query = uri.indexOf('?', scheme + 3);
            if (path < 0 || (query >= 0 && query < path)) {
                return query < 0 ? "/" : "/" + uri.substring(query);
            }
            return uri.substring(path);
        }
    }

    /** A whole response: status, {@code Content-Type}, body, and any further headers in order. */
    record Response(HttpResponseStatus status, String contentType, byte[] body, List<String[]> headers) {

        static Response of(int status, String contentType, String body) {
            return new Response(HttpResponseStatus.valueOf(status), contentType, body.getBytes(StandardCharsets.UTF_8),
                    List.of());
        }

        static Response of(int status, String contentType, byte[] body) {
            return new Response(HttpResponseStatus.valueOf(status), contentType, body, List.of());
        }

        /** This response with one more header. */
        Response with(CharSequence name, String value) {
            List<String[]> more = new ArrayList<>(headers);
            more.add(new String[] {name.toString(), value});
            return new Response(status, contentType, body, List.copyOf(more));
        }
    }
}
