#!/bin/sh
# Fetch the third-party device recordings the golden tests read (they are
# data we do not redistribute, so they are never committed):
#   PyPI snmpsim-data 1.0.1 -> target/recordings/data/**/NAME.snmprec
# With --serve, also install snmpsim 1.2.2 into target/recordings/venv for
# the served variant. Idempotent: a second run only checks what is there.
set -eu
cd "$(dirname "$0")/.."
dest=target/recordings
version=1.0.1
mkdir -p "$dest/wheel"

if [ ! -f "$dest/data/.complete-$version" ]; then
    if ! ls "$dest/wheel"/snmpsim_data-$version-*.whl >/dev/null 2>&1; then
        python3 -m pip download --no-deps --only-binary=:all: \
            -d "$dest/wheel" "snmpsim-data==$version"
    fi
    rm -rf "$dest/unpack" "$dest/data"
    mkdir -p "$dest/unpack"
    python3 -m zipfile -e "$dest"/wheel/snmpsim_data-$version-*.whl "$dest/unpack"
    mv "$dest/unpack/snmpsim_data/data" "$dest/data"
    rm -rf "$dest/unpack"
    # snmpsim walks bz2 recordings ~40x slower, and the tests read plain text.
    find "$dest/data" -name '*.snmprec.bz2' -exec bunzip2 -f {} +
    n=$(find "$dest/data" -name '*.snmprec' | wc -l)
    if [ "$n" -lt 100 ]; then
        echo "fetch-recordings: expected ~116 recordings, found $n" >&2
        exit 1
    fi
    touch "$dest/data/.complete-$version"
fi
echo "recordings: $(find "$dest/data" -name '*.snmprec' | wc -l) in $dest/data"

if [ "${1:-}" = "--serve" ]; then
    # snmpsim drops privileges (to nobody in the tests), so the interpreter
    # must be one that user can run: the system python, not one under /root.
    # snmpsim 1.2.2 imports pysmi without declaring it.
    if [ ! -f "$dest/venv/.complete" ]; then
        rm -rf "$dest/venv"
        /usr/bin/python3 -m venv "$dest/venv"
        "$dest/venv/bin/pip" install --quiet "snmpsim==1.2.2" "pysnmp==7.1.30" \
            "pysmi==2.0.0" cryptography
        "$dest/venv/bin/python" -c "import snmpsim.commands.responder"
        touch "$dest/venv/.complete"
    fi
    echo "snmpsim: $dest/venv/bin/snmpsim-command-responder"
fi
