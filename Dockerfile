# keel image: both binaries in one image; the role is chosen by the command
# (keel-controller or keel-dataplane; the Helm chart sets it).
#   buildah bud --isolation chroot -t localhost/keel:0.1.0 .    (or docker build)
#
# Stage 1, build: Debian 12 with the packages the README's install script installs for the
# build (scripts/install-deps.sh), release preset, only the two binaries. Installed binaries
# carry an RPATH to /usr/lib/x86_64-linux-gnu/android (CMAKE_INSTALL_RPATH), where the
# android BoringSSL lives; it is not in ld.so.conf.
FROM docker.io/library/debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config ninja-build \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libnghttp2-dev android-libboringssl-dev nlohmann-json3-dev libcpprest-dev \
      prometheus-cpp-dev libgtest-dev libgmock-dev googletest libre2-dev libyaml-cpp-dev \
      libbenchmark-dev libssl-dev zlib1g-dev libbrotli-dev ccache \
 && rm -rf /var/lib/apt/lists/*
# ccache is picked up by CMakeLists.txt; mount a cache on CCACHE_DIR to reuse one across
# builds (buildah bud -v HOSTDIR:/root/.cache/ccache), otherwise it stays empty and harmless.
ENV CCACHE_DIR=/root/.cache/ccache CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY proto proto
COPY common common
COPY controller controller
COPY dataplane dataplane
COPY scripts/runtime-packages.sh scripts/
# BUILD_TESTING/KEEL_BENCH off: tests/, e2e/ and bench/ are not in the image's context.
ARG JOBS=2
RUN cmake --preset release -DBUILD_TESTING=OFF -DKEEL_BENCH=OFF -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build --preset release -j "$JOBS" --target keel-controller keel-dataplane \
 && cmake --install build/release --strip \
 && scripts/runtime-packages.sh /usr/local/bin/keel-controller /usr/local/bin/keel-dataplane \
      > /usr/local/share/keel-runtime-packages.txt

# Stage 2, runtime: only the shared libraries the binaries load (their Debian packages, as
# listed by ldd in stage 1: gRPC, protobuf, nghttp2, cpprest, RE2, yaml-cpp, OpenSSL 3 for
# the controller, the android BoringSSL for the dataplane, ...), a non-root user, no shell
# tools beyond the base image's (the chart's preStop uses /bin/sleep).
FROM docker.io/library/debian:bookworm-slim
COPY --from=build /usr/local/share/keel-runtime-packages.txt /usr/local/share/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /usr/local/share/keel-runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && echo 'keel:x:65532:65532:keel:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'keel:x:65532:' >> /etc/group
COPY --from=build /usr/local/bin/keel-controller /usr/local/bin/keel-dataplane /usr/local/bin/
USER 65532:65532
# Controller: 18000 config stream, 10254 metrics. Dataplane: 8080 http, 8443 https,
# 9901 admin, 9902 metrics.
EXPOSE 8080 8443 9901 9902 10254 18000
CMD ["/usr/local/bin/keel-dataplane", "--help"]
