package dev.closewatch.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TrustedProxies}: CIDR matching and which address of an X-Forwarded-For chain is the client. */
class TrustedProxiesTest {

    private final TrustedProxies trusted = TrustedProxies.parse(List.of("10.0.0.0/8", "192.0.2.7", "fd00::/8"));

    @Test
    void shouldMatchIpv4AndIpv6Blocks() throws Exception {
        assertTrue(trusted.trusts(InetAddress.getByName("10.255.1.2")));
        assertTrue(trusted.trusts(InetAddress.getByName("192.0.2.7")));
        assertFalse(trusted.trusts(InetAddress.getByName("192.0.2.8")));
        assertFalse(trusted.trusts(InetAddress.getByName("11.0.0.1")));
        assertTrue(trusted.trusts(InetAddress.getByName("fd12:3456::1")));
        assertFalse(trusted.trusts(InetAddress.getByName("fe80::1")));
        assertTrue(trusted.trusts(InetAddress.getByName("::ffff:10.1.1.1")), "an IPv4-mapped address matches its IPv4 block");
        assertFalse(TrustedProxies.NONE.trusts(InetAddress.getByName("127.0.0.1")));
    }

    @Test
    void shouldTakeTheRightMostUntrustedAddressAsTheClient() throws Exception {
        InetAddress peer = InetAddress.getByName("10.0.0.1");
        // Given chains as a trusted peer forwards them (several field lines are one list)
        List<String> chain = TrustedProxies.elements(List.of("6.6.6.6, 203.0.113.9", " 10.1.2.3 ,, 192.0.2.7"));
        // Then the client is the first untrusted address from the right
        assertEquals(List.of("6.6.6.6", "203.0.113.9", "10.1.2.3", "192.0.2.7"), chain);
        assertEquals("203.0.113.9", trusted.client(chain, peer));
        // and with only trusted addresses, the left-most
        assertEquals("10.9.9.9", trusted.client(List.of("10.9.9.9", "10.1.1.1"), peer));
        // and a non-address ends the walk at the last address vouched for
        assertEquals("10.1.1.1", trusted.client(List.of("6.6.6.6", "unknown", "10.1.1.1"), peer));
        assertEquals("10.0.0.1", trusted.client(List.of("garbage"), peer));
        // and ports and brackets are tolerated
        assertEquals("203.0.113.9", trusted.client(List.of("203.0.113.9:4711"), peer));
        assertEquals("2001:db8:0:0:0:0:0:1", trusted.client(List.of("[2001:db8::1]:443"), peer));
        assertNull(TrustedProxies.address("example.com"), "a host name is not an address");
    }
}
