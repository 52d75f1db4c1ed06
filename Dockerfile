# syntax=docker/dockerfile:1
# Aurora: one static binary on a distroless base, run as a non-root user.
#   docker build -t aurora .
#   docker run -p 8080:8080 -v aurora-data:/data aurora            # everything, embedded SQLite
#   docker run -e DATABASE_URL=… -e AURORA_SECRET_KEY=… aurora server   # one role on PostgreSQL
# The Helm chart and deploy/compose use this image with a role as the argument.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: this layer is reused while only code changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: a static binary (SQLite is pure Go) that runs on an image
# without a C library. -trimpath and the stripped symbols make it smaller and
# reproducible.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X github.com/aurora-oss/aurora/internal/cli.Version=${VERSION}" \
      -o /out/aurora ./cmd/aurora \
 && mkdir -p /out/data

# distroless/static: CA certificates, /etc/passwd with the nonroot user,
# tzdata, nothing else (no shell, no package manager).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/aurora /usr/local/bin/aurora
# The embedded database lives here; mount a volume to keep it.
COPY --from=build --chown=65532:65532 /out/data /data
ENV AURORA_DATA_DIR=/data \
    AURORA_HTTP_ADDR=:8080
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/aurora"]
CMD ["all"]
