package dev.closewatch.config;

/**
 * TLS for the client leg ({@code wss://}): TLS 1.2 and 1.3, ALPN {@code http/1.1}. Give either
 * a PEM certificate chain and PKCS#8 key, or a PKCS#12 keystore.
 *
 * @param cert     PEM certificate chain file
 * @param key      PEM private key file (PKCS#8)
 * @param pkcs12   PKCS#12 keystore file (instead of cert and key)
 * @param password password of the PKCS#12 keystore or the key (optional)
 */
public record TlsConfig(String cert, String key, String pkcs12, String password) {
}
