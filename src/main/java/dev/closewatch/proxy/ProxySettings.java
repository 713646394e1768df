package dev.closewatch.proxy;

import dev.closewatch.catalog.CloseCatalog;
import java.time.Duration;

/**
 * What every connection handler of one proxy shares; immutable.
 *
 * @param transport       socket transport for upstream connections
 * @param catalog         classifies close codes
 * @param routes          route table
 * @param connectTimeout  upstream TCP connect limit (502 past it)
 * @param responseTimeout limit from the request's end to the upstream's response head (504 past it)
 */
record ProxySettings(Transport transport, CloseCatalog catalog, Routes routes, Duration connectTimeout,
                     Duration responseTimeout) {
}
