# syntax=docker/dockerfile:1
# The worker image: `feedpipe-worker check|consume`, the AWS Batch jobs of the feedpipe state
# machine (the template's `Image` parameter). Build from the workspace root:
#   docker build -t feedpipe-worker .
# Stage 1 builds a static (musl) binary with the `dist` profile; stage 2 is a static base with
# CA certificates, no shell and a non-root user, holding only that binary.

FROM rust:1.95-alpine3.22 AS build
# musl-dev (C headers for ring's assembly) follows the base image's Alpine release; a pinned
# version would break the build whenever that release's repository moves on.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --locked --profile dist -p worker --bin feedpipe-worker \
    && install -D -m 0755 target/dist/feedpipe-worker /out/feedpipe-worker

# distroless "static": CA certificates (/etc/ssl/certs), tzdata, /tmp, and the user
# nonroot (65532); nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/feedpipe-worker /usr/local/bin/feedpipe-worker
USER 65532:65532
# The index spill directory (the job definitions set the same); Fargate's ephemeral storage.
ENV FEEDPIPE_TMPDIR=/tmp
ENTRYPOINT ["feedpipe-worker"]
