#!/usr/bin/env bash
# Fetches axe-core (the accessibility engine the console's browser test runs in each page)
# from its npm package, pinned and checked against its SHA-256, into target/axe-core/.
# Prints the path of axe.min.js. Needs curl (installed from Debian packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.14.1
SHA256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
DIR=${CARGO_TARGET_DIR:-$PWD/target}/axe-core
JS="$DIR/axe-$VERSION.min.js"

if [ ! -s "$JS" ]; then
    if ! command -v curl >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" = 0 ] || SUDO=sudo
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq curl ca-certificates >/dev/null
    fi
    mkdir -p "$DIR"
    curl -fsSL -o "$DIR/axe.tgz" "https://registry.npmjs.org/axe-core/-/axe-core-$VERSION.tgz"
    echo "$SHA256  $DIR/axe.tgz" | sha256sum -c --quiet -
    tar -xzf "$DIR/axe.tgz" -C "$DIR" package/axe.min.js
    mv "$DIR/package/axe.min.js" "$JS"
    rm -rf "$DIR/package" "$DIR/axe.tgz"
fi
echo "$JS"
