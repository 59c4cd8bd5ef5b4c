# syntax=docker/dockerfile:1
# The image runs the binary `make build` makes: the same target CI runs, so
# what ships is what was tested.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version comes from outside (`make up` passes git describe): the
# build context need not carry .git.
ARG VERSION=dev
RUN make build BIN=/out/stockd VERSION=${VERSION}

# Static binary, no shell, non-root.
FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/stockd /app/stockd
COPY --from=build /src/price_data.csv /app/price_data.csv
# The migrations are embedded in the binary; the SQL is here to be read.
COPY --from=build /src/migrations/*.sql /app/migrations/
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD ["/app/stockd", "health"]
ENTRYPOINT ["/app/stockd"]
