# closewatch container image: the Maven build in a JDK image, the runtime in a JRE image.
#
#   docker build -t closewatch \
#     --build-arg VERSION=$(./mvnw -q help:evaluate -Dexpression=project.version -DforceStdout) \
#     --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg SOURCE=https://example.org/your/closewatch.git .
#   docker run --rm -p 8080:8080 -p 8081:8081 closewatch run --config /etc/closewatch/closewatch.yaml --upstream ws://backend:9000
#   docker run --rm -p 8080:8080 -p 8081:8081 closewatch demo --listen 0.0.0.0:8080 --admin 0.0.0.0:8081
#
# Ports: 8080 the proxy (clients connect here), 8081 the admin server (/metrics, /healthz,
# /readyz). Configuration: /etc/closewatch/closewatch.yaml (mount your own over it; its
# admin.listen must not be 127.0.0.1, or Prometheus and the health check cannot reach it).
# Environment: JAVA_OPTS (JVM flags), CLOSEWATCH_LOG_FORMAT=plain|json (Logback config
# /etc/closewatch/logback.xml or logback-json.xml), CLOSEWATCH_ADMIN_PORT (health check port).
#
# Build arguments: JDK_VERSION (the Eclipse Temurin release of both stages: 25, chosen by the
# benchmark against 17 with -XX:+UseCompactObjectHeaders below, see docs/performance.md "The JDK";
# the code compiles for 17, so JDK_VERSION=17 builds an image too, whose JAVA_OPTS must then drop
# -XX:+UseCompactObjectHeaders, as JDK 17 refuses to start with it), VERSION,
# REVISION and SOURCE (OCI labels; REVISION also goes into the jar's build info: `closewatch
# --version` and the closewatch_build_info metric, as the build context has no .git).

ARG JDK_VERSION=25

FROM eclipse-temurin:${JDK_VERSION}-jdk-noble AS build
ARG REVISION=unknown
WORKDIR /build
# The wrapper and the POM first: the layer with the project's dependencies is rebuilt only when
# they change (plugins are fetched by the package step).
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
RUN ./mvnw -B -ntp -q dependency:resolve
COPY src/ src/
RUN ./mvnw -B -ntp -q package -DskipTests -Dgit.commit.id="${REVISION}" \
    && cp target/closewatch.jar /closewatch.jar

FROM eclipse-temurin:${JDK_VERSION}-jre-noble
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="closewatch" \
      org.opencontainers.image.description="Transparent WebSocket reverse proxy that classifies every session end (RFC 6455 close codes) and exports Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed non-root UID/GID, so volume permissions and runAsNonRoot policies are predictable.
RUN groupadd --system --gid 10001 closewatch \
    && useradd --system --uid 10001 --gid closewatch --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin closewatch

COPY --from=build /closewatch.jar /opt/closewatch/closewatch.jar
COPY LICENSE /opt/closewatch/LICENSE
COPY config/closewatch.yaml config/logback.xml config/logback-json.xml /etc/closewatch/
# In a container the admin server must listen on all interfaces for Prometheus to scrape it
# (the shipped default is loopback). Fail the build if the default file no longer has that line.
RUN sed -i 's/^  listen: 127\.0\.0\.1:8081$/  listen: 0.0.0.0:8081/' /etc/closewatch/closewatch.yaml \
    && grep -q '^  listen: 0\.0\.0\.0:8081$' /etc/closewatch/closewatch.yaml

# JVM flags for a container with a 512 MiB memory limit (docs/operations.md, "Memory in a container"): every
# JVM memory pool that can grow is capped, so that their sum stays inside the limit:
#   heap 144 MiB (-Xmx) + Netty's direct buffers 112 MiB (-XX:MaxDirectMemorySize; Netty takes its
#   own limit, io.netty.maxDirectMemory, from it) + metaspace 64 MiB + code cache 48 MiB = 368 MiB,
#   and 144 MiB for G1's and the JIT's native memory, thread stacks, malloc (measured: about
#   75 MiB) and the health check's own short-lived JVM below (about 60 MiB).
# With another limit, scale heap and direct memory (see the table in docs/operations.md). An OutOfMemoryError
# ends the process so the orchestrator restarts it instead of limping on; Netty refuses a direct
# buffer past its cap (the connection fails) instead of the kernel's OOM killer ending everything.
# Memory goes back after a burst of sessions closes (docs/performance.md): G1 (also in small
# containers, where the JVM would pick Serial), a small initial heap it can shrink to, shrinking
# to 30% free after a full GC or a concurrent cycle, a periodic GC after 60 s without one, and
# glibc's free malloc pages trimmed every 5 s. JDK 25's compact object headers (8-byte headers, a
# product flag since 25) took 8 % off the live heap per idle session and 14-18 % off the CPU per
# message and per churned session in the benchmark (medians; on a loaded machine). Netty loads its epoll
# library through System.loadLibrary, which JDK 25 reports as restricted unless native access is enabled.
ENV JAVA_OPTS="-Xms32m -Xmx144m -XX:MaxDirectMemorySize=112m -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=48m -XX:+UseG1GC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:G1PeriodicGCInterval=60000 -XX:TrimNativeHeapInterval=5000 -XX:+UseCompactObjectHeaders -XX:+ExitOnOutOfMemoryError --enable-native-access=ALL-UNNAMED -Djava.awt.headless=true" \
    CLOSEWATCH_LOG_FORMAT=plain \
    CLOSEWATCH_ADMIN_PORT=8081

USER 10001:10001
WORKDIR /opt/closewatch
EXPOSE 8080 8081

# /healthz answers "ok" while the process is up. The check is closewatch's own `healthcheck`
# command (the JDK's HttpClient; no curl in the image needed), in a small JVM of its own (about
# 60 MiB for a second, inside the memory budget above); port from CLOSEWATCH_ADMIN_PORT.
# The first check runs one interval after the start; the JVM is up well before. Kubernetes
# ignores HEALTHCHECK and uses the Deployment's probes (deploy/kubernetes/).
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
    CMD ["java", "-Xmx16m", "-Xss256k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=16m", "-cp", "/opt/closewatch/closewatch.jar", "dev.closewatch.cli.CloseWatchCommand", "healthcheck"]

# exec: java becomes PID 1's successor and gets SIGTERM directly (graceful drain on stop).
ENTRYPOINT ["/bin/sh", "-c", "case \"$CLOSEWATCH_LOG_FORMAT\" in json) log=logback-json.xml ;; plain) log=logback.xml ;; *) echo \"closewatch: CLOSEWATCH_LOG_FORMAT must be plain or json, not '$CLOSEWATCH_LOG_FORMAT'\" >&2; exit 64 ;; esac; exec java $JAVA_OPTS -Dlogback.configurationFile=/etc/closewatch/$log -jar /opt/closewatch/closewatch.jar \"$@\"", "closewatch"]
CMD ["run", "--config", "/etc/closewatch/closewatch.yaml"]
