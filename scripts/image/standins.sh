#!/usr/bin/env bash
# Builds local stand-ins for the base images the Dockerfile names, since no image registry
# can be reached here: Debian bookworm from debootstrap (minbase, slimmed like debian:*-slim),
# plus, for python:3.11-slim-bookworm, Debian's python3.11 with venv, pip and headers at
# /usr/local/bin/python3; for rust:X.Y-slim-bookworm, gcc and the host's own Rust toolchain
# laid out as the official image has it (/usr/local/rustup, /usr/local/cargo).
# Each image carries a label with a hash of its recipe and is rebuilt only when that changes.
# Usage: standins.sh CACHE_DIR PYTHON_IMAGE RUST_IMAGE
set -euo pipefail
cache=$1
# `FROM python:3.11` means docker.io/library/python:3.11: tag the stand-ins with the full name.
full_name() {
    case $1 in
    */*/*) echo "$1" ;;
    */*) echo "docker.io/$1" ;;
    *) echo "docker.io/library/$1" ;;
    esac
}
python_image=$(full_name "$2") rust_image=$(full_name "$3")
here=$(cd "$(dirname "$0")" && pwd)
stamp_label=org.image-insights.standin
minbase_image=localhost/image-insights-standin/debian:bookworm-minbase

# The Debian mirror apt already uses on this machine (deb822 or one-line sources).
mirror_for() {  # $1 = debian | debian-security
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | grep -E '^(URIs:|deb )' | grep -oE "https?://[^ ]+/$1/?( |$)" \
        | tr -d ' ' | sed 's#/$##' | head -n1 || true
}
mirror=${DEBIAN_MIRROR:-$(mirror_for debian)}
mirror=${mirror:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-$(mirror_for debian-security)}
security_mirror=${security_mirror:-http://deb.debian.org/debian-security}

# Extra CA certificates this machine trusts (an egress proxy re-signs TLS here): the stand-ins
# trust them too, or pip and cargo inside `podman build` could not reach PyPI and crates.io.
mapfile -t extra_cas < <(find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | sort)

# A rebuilt stand-in leaves its predecessor untagged: drop it unless images still use it.
drop_replaced() {  # old image id, name
    [[ -n $1 && $1 != "$(podman image inspect --format '{{.Id}}' "$2")" ]] || return 0
    podman rmi "$1" >/dev/null 2>&1 || true
}

image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

current_stamp() {  # image name -> stored recipe hash, or nothing
    podman image exists "$1" || return 0
    podman image inspect --format "{{index .Config.Labels \"$stamp_label\"}}" "$1" \
        2>/dev/null || true
}

recipe_hash() {  # strings and files (by content, not path) that define an image -> hash
    local item
    for item in "$@"; do
        if [[ -f $item ]]; then sha256sum <"$item"; else echo "$item"; fi
    done | sha256sum | cut -c1-16
}

# Bump when build_minbase changes what it makes.
minbase_recipe=2
base_hash=$(recipe_hash "minbase-$minbase_recipe" "$mirror" "$security_mirror")

build_minbase() {
    [[ $(current_stamp "$minbase_image") == "$base_hash" ]] && return
    echo "stand-in: debootstrap bookworm (minbase) from $mirror" >&2
    local root=$cache/minbase old
    old=$(image_id "$minbase_image")
    rm -rf "$root"
    mkdir -p "$root"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
    # Sources as the official images have them, pointing at this machine's mirror.
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # What debian:bookworm-slim does: no docs, man pages or locales, no kept .debs.
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    cat >"$root/etc/apt/apt.conf.d/slim" <<'EOF'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root"/usr/share/{man,info,groff,lintian}/* "$root"/var/lib/apt/lists/* \
        "$root"/var/cache/apt/* "$root"/var/log/*.log "$root"/var/log/apt/*
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    tar -C "$root" --numeric-owner -c . | podman import \
        --change "LABEL $stamp_label=$base_hash" --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' - "$minbase_image" >/dev/null
    rm -rf "$root"
    drop_replaced "$old" "$minbase_image"
}

# Build context shared by both stand-ins: the extra CA certificates.
prepare_context() {  # dir
    rm -rf "$1"
    mkdir -p "$1/ca"
    ((${#extra_cas[@]} == 0)) || cp "${extra_cas[@]}" "$1/ca/"
}

build_python() {
    local hash
    hash=$(recipe_hash "$base_hash" "$here/python.Containerfile" "${extra_cas[@]}")
    [[ $(current_stamp "$python_image") == "$hash" ]] && return
    echo "stand-in: $python_image (Debian's python3.11)" >&2
    local ctx=$cache/python-context old
    old=$(image_id "$python_image")
    prepare_context "$ctx"
    podman build --isolation=chroot --pull=never --format docker --quiet \
        --build-arg "BASE=$minbase_image" --label "$stamp_label=$hash" \
        -f "$here/python.Containerfile" -t "$python_image" "$ctx" >/dev/null
    rm -rf "$ctx"
    drop_replaced "$old" "$python_image"
}

build_rust() {
    local version sysroot hash
    version=${rust_image#*:}
    version=${version%%-*}
    sysroot=$(rustc --print sysroot)
    local host_version
    host_version=$(rustc --version | awk '{print $2}')
    if [[ $host_version != "$version" && $host_version != "$version".* ]]; then
        echo "the Dockerfile asks for $rust_image but this machine has rustc $host_version;" \
            "no other toolchain can be downloaded here" >&2
        exit 1
    fi
    hash=$(recipe_hash "$base_hash" "$here/rust.Containerfile" "$(rustc -vV)" "${extra_cas[@]}")
    [[ $(current_stamp "$rust_image") == "$hash" ]] && return
    echo "stand-in: $rust_image (host toolchain $host_version)" >&2
    local ctx=$cache/rust-context old
    old=$(image_id "$rust_image")
    prepare_context "$ctx"
    # The toolchain without its HTML docs (~800 MB), as rustup's minimal profile would have it.
    mkdir -p "$ctx/toolchain" "$ctx/cargo-bin"
    tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$ctx/toolchain" -x
    cp "$(command -v rustup)" "$ctx/cargo-bin/rustup"
    chmod -R a+w "$ctx/toolchain" "$ctx/cargo-bin"  # as the official image leaves them
    podman build --isolation=chroot --pull=never --format docker --quiet \
        --build-arg "BASE=$minbase_image" --build-arg "RUST_VERSION=$host_version" \
        --label "$stamp_label=$hash" \
        -f "$here/rust.Containerfile" -t "$rust_image" "$ctx" >/dev/null
    rm -rf "$ctx"
    drop_replaced "$old" "$rust_image"
}

mkdir -p "$cache"
build_minbase
# The two stand-ins share nothing but the minbase image: build them side by side.
build_python &
python_job=$!
build_rust &
rust_job=$!
status=0
wait "$python_job" || status=$?
wait "$rust_job" || status=$?
exit "$status"
