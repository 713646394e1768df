package dev.closewatch.demo;

import dev.closewatch.websocket.Initiator;

/**
 * One way the demo ends a session, and what closewatch must record for it.
 *
 * @param name      short description
 * @param code      the status code closewatch records
 * @param initiator who ends the session
 * @param command   text message that makes the {@link EchoUpstream} end it, or null when the
 *                  client ends it itself
 * @param clientClose client's Close code (when the client ends it with a Close frame), or
 *                    -1 when the client aborts the TCP connection
 */
public record Scenario(String name, int code, Initiator initiator, String command, int clientClose) {

    /** The mix the demo cycles through. */
    public static final java.util.List<Scenario> MIX = java.util.List.of(
            new Scenario("client says goodbye", 1000, Initiator.CLIENT, null, 1000),
            new Scenario("server finished", 1000, Initiator.UPSTREAM, "close 1000 done", 0),
            new Scenario("server going away", 1001, Initiator.UPSTREAM, "close 1001 server shutting down", 0),
            new Scenario("binary sent to a text endpoint", 1003, Initiator.UPSTREAM, "close 1003 text only", 0),
            new Scenario("text message not UTF-8", 1007, Initiator.UPSTREAM, "close 1007 invalid UTF-8", 0),
            new Scenario("policy violation", 1008, Initiator.UPSTREAM, "close 1008 origin not allowed", 0),
            new Scenario("message too big", 1009, Initiator.UPSTREAM, "close 1009 limit 64 KiB", 0),
            new Scenario("server crashed handling a message", 1011, Initiator.UPSTREAM, "close 1011 NullPointerException", 0),
            new Scenario("server restarting", 1012, Initiator.UPSTREAM, "close 1012 deploy", 0),
            new Scenario("token expired (catalogued private code)", 4001, Initiator.UPSTREAM, "close 4001 token expired", 0),
            new Scenario("uncatalogued private code", 4999, Initiator.CLIENT, null, 4999),
            new Scenario("empty Close frame", 1005, Initiator.UPSTREAM, "close-empty", 0),
            new Scenario("client dropped TCP", 1006, Initiator.CLIENT, null, -1),
            new Scenario("upstream dropped TCP", 1006, Initiator.UPSTREAM, "drop", 0));
}
