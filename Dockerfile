# fiberleakd in a container: the demo, the sidecar, the one-shot check.
# Build:     docker build -t fiberleakd .
# The demo:  docker run --rm -p 6060:6060 fiberleakd
# A sidecar sharing the watched container's network (its endpoint is then
# 127.0.0.1:6060 to the sidecar; publish 6070 on the watched container):
#   docker run --rm --network container:myservice \
#     -e FIBERLEAKD_HEALTH_URL=http://127.0.0.1:6070/healthz \
#     fiberleakd scrape --config /etc/fiberleak/fiberleakd.sidecar.json
# CI, against a service reachable from the container:
#   docker run --rm --network host fiberleakd check http://127.0.0.1:6060 --threshold 30s

# --- build stage: the same install script developers use -------------------
FROM debian:bookworm AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends sudo ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --runtime-only
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIBERLEAK_BUILD_TESTS=OFF -DFIBERLEAK_BUILD_BENCH=OFF \
          -DFIBERLEAK_INSTALL=ON \
 && cmake --build /build -j"$(nproc)" --target fiberleakd \
 && cmake --install /build --prefix /opt/fiberleak --component daemon

# --- final stage: fiberleakd and the shared libraries it runs on -------------
# No compiler, no headers, no static libraries.
FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libboost-fiber1.74.0 libboost-context1.74.0 libunwind8 libdw1 zlib1g libspdlog1.10 libfmt9 libcpp-httplib0.11 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin fiberleak
COPY --from=build /opt/fiberleak/bin/fiberleakd /usr/bin/fiberleakd
COPY config/fiberleakd.example.json config/fiberleakd.sidecar.json /etc/fiberleak/
USER fiberleak
EXPOSE 6060 6070
# `fiberleakd healthcheck` GETs FIBERLEAKD_HEALTH_URL (no curl in the image):
# the demo's endpoint by default; a sidecar sets its own listen address.
ENV FIBERLEAKD_HEALTH_URL=http://127.0.0.1:6060/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["fiberleakd", "healthcheck"]
ENTRYPOINT ["fiberleakd"]
CMD ["demo", "--listen", "0.0.0.0:6060"]
