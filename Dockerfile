# The kube-router image for those with a container engine. scripts/image builds the same image without one
# (mmdebstrap + umoci) and is what this project tests: both install deploy/image/packages.txt with the options of
# deploy/image/dpkg.cfg and run deploy/image/customize (iptables set to legacy, the CNI plugins kept).
#
# Build the binaries first (release, with the Swift runtime linked in), then the image:
#   swift build -c release --static-swift-stdlib --product kube-router --scratch-path .build-static
#   swift build -c release --static-swift-stdlib --product krctl --scratch-path .build-static
#   docker build -t kube-router .

# The binaries without their debug information (as scripts/image strips them).
FROM debian:bookworm-slim AS binaries
RUN apt-get update && apt-get install -y --no-install-recommends binutils
COPY .build-static/release/kube-router .build-static/release/krctl /out/
RUN strip --strip-debug /out/kube-router /out/krctl

FROM debian:bookworm-slim

COPY deploy/image/packages.txt deploy/image/customize /tmp/image/
COPY deploy/image/dpkg.cfg /etc/dpkg/dpkg.cfg.d/kube-router
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    grep -v '^[[:space:]]*#' /tmp/image/packages.txt \
      | xargs apt-get install -y --no-install-recommends; \
    /tmp/image/customize /; \
    rm -rf /var/lib/apt/lists/* /tmp/image

COPY --from=binaries /out/kube-router /out/krctl /usr/local/bin/

LABEL org.opencontainers.image.title="kube-router" \
      org.opencontainers.image.description="Kubernetes node networking (IPVS, network policy, BGP) and krctl" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /
USER 0:0
ENTRYPOINT ["/usr/local/bin/kube-router"]
