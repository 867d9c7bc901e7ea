# Untested here (no Docker engine on the development machines).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (the embedded database's SQLite included), so a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/newsgraph .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/newsgraph /newsgraph
# Only used when MONGODB_URI is unset (the embedded database); mount a volume
# here to keep its data.
ENV DATA_DIR=/tmp/newsgraph-data
EXPOSE 8080
ENTRYPOINT ["/newsgraph"]
