#!/usr/bin/env bash
# Builds local stand-ins for the images that compose.yaml and the
# Dockerfile name, on a machine that reaches no image registry but does
# reach Debian's mirror and the Go module proxy (docs/docker.md says what
# each one is and what it does not prove). Each is tagged with the exact
# name the files use, so they run unchanged, and labelled
# org.stockd.standin.inputs with a hash of what it was built from: an image
# whose label matches is not built again, and a tag that holds an image
# without the label (a real one, pulled) is left alone.
#
# Also installs Docker Compose v2 as the CLI plugin when `docker compose`
# is missing, built from its Go module.
#
# Cached outside the repository, in STOCKD_STANDINS_CACHE
# (/var/cache/stockd-standins): the debootstrap'd bookworm rootfs and the
# compose binary, each under a name made of its inputs.
#
#   scripts/standins/build.sh            # needs root (debootstrap) and a running dockerd
#   scripts/standins/build.sh --remove   # untags the stand-ins, so that compose pulls the real images
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE=${STOCKD_STANDINS_CACHE:-/var/cache/stockd-standins}
MIRROR=${STOCKD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
COMPOSE_VERSION=${STOCKD_COMPOSE_VERSION:-v5.6.0}
LABEL=org.stockd.standin.inputs
HERE=scripts/standins
mkdir -p "$CACHE"
start=$SECONDS

say() { printf 'standins: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
hash16() { sha256sum | cut -c1-16; }

docker info >/dev/null 2>&1 || die "no Docker daemon answers; start one (scripts/dockerd.sh)"

# The images the files name: compose.yaml's (but stockd's own, built from
# this tree, and the optional tracing profile's) and the Dockerfile's FROMs.
mapfile -t images < <(
  {
    sed -n 's/^ *image: *\([^ #]*\).*/\1/p' compose.yaml
    sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile
  } | sort -u
)

# inputs_of TAG prints the stand-in label of TAG's image, "real" for an
# image without one, nothing when there is no such image.
inputs_of() {
  local id
  id=$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null) || return 0
  local v
  v=$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$id")
  if [ -z "$v" ] || [ "$v" = "<no value>" ]; then echo real; else echo "$v"; fi
}

# fresh TAG INPUTS: true when TAG need not be built.
fresh() {
  local have
  have=$(inputs_of "$1")
  case "$have" in
    real) say "$1: a real image is there; keeping it"; return 0 ;;
    "$2") say "$1: up to date"; return 0 ;;
  esac
  return 1
}

if [ "${1:-}" = --remove ]; then
  # Only the tags whose image is a stand-in built here; an image built on
  # one (stockd:latest) inherits the label but is not a stand-in's tag.
  for image in "${images[@]}"; do
    [[ "$image" != stockd:* ]] || continue
    have=$(inputs_of "$image")
    if [ -n "$have" ] && [ "$have" != real ]; then
      docker image rm "$image" >/dev/null && say "$image: removed"
    fi
  done
  exit 0
fi

# --- the base: one debootstrap'd bookworm (minbase), imported once ---------
rootfs_recipe="bookworm minbase $MIRROR sources+security policy-rc.d no-recommends v1"
rootfs_key=$(echo "$rootfs_recipe" | hash16)
rootfs_tar=$CACHE/rootfs-bookworm-minbase-$rootfs_key.tar
if [ ! -s "$rootfs_tar" ]; then
  command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -yq debootstrap; }
  t=$SECONDS
  dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  say "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$dir" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $CACHE/debootstrap.log"
  cat > "$dir/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
  # No service starts inside a build, and no recommends: as Docker's
  # Debian images are set up.
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
  chmod +x "$dir/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$dir/etc/apt/apt.conf.d/90stockd-standin"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$dir"
  trap - EXIT
  say "rootfs cached in $rootfs_tar ($((SECONDS - t)) s)"
fi
BASE=stockd-standin/bookworm:$rootfs_key
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  docker import --change "LABEL $LABEL=$rootfs_key" --change 'CMD ["bash"]' "$rootfs_tar" "$BASE" >/dev/null
  say "$BASE imported"
fi

# build TAG DIR INPUTS [docker build options...]: builds the Dockerfile in
# DIR, with the files of DIR (and any streamed in) as its context.
build() {
  local tag=$1 dir=$2 inputs=$3
  shift 3
  local t=$SECONDS
  say "$tag: building from $dir"
  docker build -q --build-arg BASE="$BASE" --label "$LABEL=$inputs" --label org.stockd.standin=1 \
    -t "$tag" "$@" > "$CACHE/build-${tag//[\/:]/_}.log" 2>&1 ||
    { tail -30 "$CACHE/build-${tag//[\/:]/_}.log" >&2; die "$tag: build failed"; }
  say "$tag: built ($((SECONDS - t)) s)"
}

# dir_hash DIR: the files of DIR, names and contents.
dir_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) | hash16; }

for image in "${images[@]}"; do
  case "$image" in
    stockd:*) continue ;;
    jaegertracing/*) say "$image: no stand-in (the tracing profile is optional)"; continue ;;
    golang:*)
      goroot=$(go env GOROOT)
      want=$(go env GOVERSION)
      [[ "$image" == golang:${want#go}* || "$image" == golang:$(echo "${want#go}" | cut -d. -f1,2)-* ]] ||
        die "$image: this machine's Go is $want; the stand-in must be the same minor release"
      ctx=$(mktemp -d)
      cp $HERE/golang/* "$ctx/"
      mkdir "$ctx/local-ca"
      find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$ctx/local-ca/" \; 2>/dev/null || true
      inputs=$( (echo "$BASE $want"; dir_hash "$ctx") | hash16)
      if ! fresh "$image" "$inputs"; then
        tar -C "$ctx" -c . -C "$(dirname "$goroot")" --transform "s|^$(basename "$goroot")|go|" "$(basename "$goroot")" |
          build "$image" $HERE/golang "$inputs" -
      fi
      rm -rf "$ctx"
      ;;
    gcr.io/distroless/static-debian12:*)
      # FROM scratch with files from the base: made with docker import,
      # which keeps the owners the files have in the tar.
      inputs=$( (echo "$BASE distroless v1") | hash16)
      fresh "$image" "$inputs" && continue
      t=$SECONDS
      docker run --rm "$BASE" bash -ec '
        apt-get update -q >/dev/null && apt-get install -yq ca-certificates tzdata >/dev/null
        r=/rootfs; mkdir -p $r/etc/ssl/certs $r/usr/share $r/tmp $r/home/nonroot $r/root
        cp /etc/ssl/certs/ca-certificates.crt $r/etc/ssl/certs/
        cp -a /usr/share/zoneinfo $r/usr/share/
        cp /etc/os-release $r/etc/os-release
        printf "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" > $r/etc/passwd
        printf "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n" > $r/etc/group
        chmod 1777 $r/tmp; chmod 700 $r/root; chown 65532:65532 $r/home/nonroot; chmod 700 $r/home/nonroot
        tar -C $r -c .' |
        docker import --change "LABEL $LABEL=$inputs" --change "LABEL org.stockd.standin=1" \
          --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
          --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
          --change 'USER 65532' --change 'WORKDIR /home/nonroot' - "$image" >/dev/null
      say "$image: built ($((SECONDS - t)) s)"
      ;;
    redis:*) inputs=$( (echo "$BASE"; dir_hash $HERE/redis) | hash16)
      fresh "$image" "$inputs" || build "$image" $HERE/redis "$inputs" $HERE/redis ;;
    postgres:*) inputs=$( (echo "$BASE"; dir_hash $HERE/postgres) | hash16)
      fresh "$image" "$inputs" || build "$image" $HERE/postgres "$inputs" $HERE/postgres ;;
    nginx:*) inputs=$( (echo "$BASE $MIRROR"; dir_hash $HERE/nginx) | hash16)
      fresh "$image" "$inputs" || build "$image" $HERE/nginx "$inputs" --build-arg MIRROR="$MIRROR" $HERE/nginx ;;
    apache/kafka:*)
      ctx=$(mktemp -d)
      cp $HERE/kafka/* "$ctx/"
      CGO_ENABLED=0 go build -trimpath -o "$ctx/kfake" ./scripts/kfake
      CGO_ENABLED=0 go build -trimpath -o "$ctx/kafkacli" ./scripts/kafkacli
      inputs=$( (echo "$BASE"; dir_hash "$ctx") | hash16)
      fresh "$image" "$inputs" || build "$image" "$ctx" "$inputs" "$ctx"
      rm -rf "$ctx"
      ;;
    *) die "$image: no stand-in for it; add one to $HERE (docs/docker.md)" ;;
  esac
done

# --- Docker Compose v2, when the CLI has none ---------------------------------
if docker compose version >/dev/null 2>&1; then
  say "compose: $(docker compose version --short) is installed"
else
  gover=$(go env GOVERSION)
  bin=$CACHE/compose-$COMPOSE_VERSION-$gover/docker-compose
  if [ ! -x "$bin" ]; then
    t=$SECONDS
    say "compose: building $COMPOSE_VERSION from its Go module"
    dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir" ] || die "compose: go mod download github.com/docker/compose/v5@$COMPOSE_VERSION failed"
    mkdir -p "$(dirname "$bin")"
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" -o "$bin.part" ./cmd) &&
      mv "$bin.part" "$bin"
    say "compose: built ($((SECONDS - t)) s)"
  fi
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 755 "$bin" /usr/local/lib/docker/cli-plugins/docker-compose
  say "compose: $(docker compose version --short) installed as the CLI plugin"
fi
say "done in $((SECONDS - start)) s"
