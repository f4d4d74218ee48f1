# fiberleakd in a container. Build: docker build -t fiberleakd .
# Run the demo:  docker run --rm -p 6060:6060 fiberleakd demo --listen 0.0.0.0:6060
# Run the sidecar: docker run --rm -v $PWD/config:/config fiberleakd scrape --config /config/fiberleakd.example.json

# --- build stage: the same install script developers use -------------------
FROM debian:bookworm AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends sudo ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --runtime-only
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIBERLEAK_BUILD_TESTS=OFF -DFIBERLEAK_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cmake --install /build --prefix /opt/fiberleak

# --- final stage: shared libraries only, no compiler -------------------------
FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libboost-fiber1.74.0 libboost-context1.74.0 libunwind8 zlib1g libspdlog1.10 libfmt9 libcpp-httplib0.11 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/fiberleak /opt/fiberleak
COPY config /etc/fiberleak
ENV PATH=/opt/fiberleak/bin:$PATH
EXPOSE 6060
ENTRYPOINT ["fiberleakd"]
CMD ["demo", "--listen", "0.0.0.0:6060"]
