# syntax=docker/dockerfile:1

# The Pinhole binary, built once and shipped alone: `pinhole serve` needs
# nothing from the image but CA certificates (TLS to SMTP or S3) and time
# zone data, both of which the distroless base provides.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, in their own layer, so editing Go code does not re-download
# every dependency; only a change to go.mod or go.sum does.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary for the libc-less final image (the embedded
# database driver is pure Go). -trimpath keeps build paths out of the binary.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /pinhole ./cmd/pinhole

# No shell and no package manager: nothing for an intruder to use, and
# nothing to patch but the binary. The compose health check therefore calls
# `/pinhole healthcheck` in exec form.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /pinhole /pinhole
# 65532 is the distroless "nonroot" user; numeric so orchestrators that insist
# on runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/pinhole"]
CMD ["serve"]
