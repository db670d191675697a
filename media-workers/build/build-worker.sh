#!/usr/bin/env bash
# Builds (or reuses) mediasoup-worker from the npm tarball's C++ sources against
# Debian libraries, with no GitHub/PyPI access. See docs/worker-build.md.
#
# Usage: media-workers/build/build-worker.sh [--apt] [--force] [MEDIASOUP_DIR]
#   --apt        apt-get install missing packages from apt-packages.txt first
#   --apt-only   only do that
#   --force      ignore MEDIASOUP_WORKER_BIN and the cache, rebuild
#   --print-srtp-flags  print "CFLAGS|LIBS" to compile against the libsrtp the
#                cached build uses (for the srtp3-compat test), then exit
# Env: MEDIASOUP_WORKER_BIN, TUTTI_MEDIASOUP_DIR, TUTTI_CACHE_DIR,
#      TUTTI_KEEP_BUILD=1 (keep the build tree), TUTTI_SRTP=source (default, static OpenSSL libsrtp) | system (Debian .so, NSS)
# Everything goes to stderr except the chosen binary's path (last stdout line).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE_ROOT="${TUTTI_CACHE_DIR:-$HOME/.cache/tutti}/mediasoup-worker"
SRTP_MODE="${TUTTI_SRTP:-source}"
LINK="$REPO/media-workers/bin/mediasoup-worker"

log() { echo "[build-worker] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

DO_APT=0 APT_ONLY=0 FORCE=0 PRINT_SRTP=0 MS_ARG=""
for a in "$@"; do
	case "$a" in
		--apt) DO_APT=1 ;;
		--apt-only) DO_APT=1 APT_ONLY=1 ;;
		--force) FORCE=1 ;;
		--print-srtp-flags) PRINT_SRTP=1 ;;
		-h|--help) sed -n '2,14p' "$0" >&2; exit 0 ;;
		-*) die "unknown option $a" ;;
		*) MS_ARG="$a" ;;
	esac
done
case "$SRTP_MODE" in source|system) ;; *) die "TUTTI_SRTP must be source or system" ;; esac

# apt-packages.txt entries may be "pkg/release" (meson needs bookworm-backports).
install_apt_packages() {
	local missing=() entry pkg
	while read -r entry; do
		[[ -z "$entry" ]] && continue
		pkg="${entry%%/*}"
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
			missing+=("$entry")
		fi
	done <"$HERE/apt-packages.txt"
	# meson from bookworm itself (1.0) is too old for mediasoup (>= 1.1).
	if command -v meson >/dev/null && ! dpkg --compare-versions "$(meson --version)" ge 1.1.0; then
		missing+=("meson/bookworm-backports")
	fi
	if ((${#missing[@]})); then
		log "apt-get install ${missing[*]}"
		local sudo=""
		[[ $(id -u) -ne 0 ]] && sudo="sudo"
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}" >&2
	fi
}

if ((DO_APT)); then
	install_apt_packages
	((APT_ONLY)) && exit 0
fi

# A worker that starts prints "you don't seem to be my real father!" and exits
# 41 when MEDIASOUP_VERSION is unset: that proves it loads and runs here.
worker_runs() {
	local bin="$1" rc=0
	[[ -f "$bin" && -x "$bin" ]] || return 1
	if ldd "$bin" 2>/dev/null | grep -q "not found"; then return 1; fi
	timeout 10 env -i "$bin" >/dev/null 2>&1 || rc=$?
	[[ $rc -eq 41 ]]
}

use_binary() {
	mkdir -p "$(dirname "$LINK")"
	ln -sfn "$1" "$LINK"
	log "media-workers/bin/mediasoup-worker -> $1"
	echo "$1"
	exit 0
}

# a. An explicitly provided binary.
if ((!FORCE && !PRINT_SRTP)) && [[ -n "${MEDIASOUP_WORKER_BIN:-}" ]]; then
	if worker_runs "$MEDIASOUP_WORKER_BIN"; then
		use_binary "$(readlink -f "$MEDIASOUP_WORKER_BIN")"
	fi
	log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not runnable here, ignoring it"
fi

# Locate mediasoup: the repo's node_modules first, then argument / env.
MS_DIR=""
for d in "$REPO/node_modules/mediasoup" "$MS_ARG" "${TUTTI_MEDIASOUP_DIR:-}"; do
	if [[ -n "$d" && -f "$d/worker/meson.build" && -f "$d/package.json" ]]; then
		MS_DIR="$(cd "$d" && pwd)"
		break
	fi
done
[[ -n "$MS_DIR" ]] || die "mediasoup not found: npm install first, or pass its dir / set TUTTI_MEDIASOUP_DIR"
MS_VERSION="$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$MS_DIR/package.json" | head -n1)"
[[ -n "$MS_VERSION" ]] || die "cannot read mediasoup version from $MS_DIR/package.json"

# Recipe hash: every file of this directory (sorted), plus the libsrtp variant
# when it is not the default one.
recipe_hash() {
	(
		cd "$HERE"
		find . -type f ! -name '*~' ! -name '*.swp' -print0 | LC_ALL=C sort -z |
			while IFS= read -r -d '' f; do
				printf '%s\n' "$f"
				sha256sum <"$f"
			done
		[[ "$SRTP_MODE" == source ]] || echo "srtp=$SRTP_MODE"
	) | sha256sum | cut -c1-12
}
RECIPE="$(recipe_hash)"
OUT_DIR="$CACHE_ROOT/$MS_VERSION-$RECIPE"
BIN="$OUT_DIR/mediasoup-worker"

if ((PRINT_SRTP)); then
	[[ -f "$OUT_DIR/srtp-flags.txt" ]] || die "no cached build at $OUT_DIR (run build-worker.sh first)"
	cat "$OUT_DIR/srtp-flags.txt"
	exit 0
fi

# b. Cached build for this mediasoup version and recipe.
if ((!FORCE)) && worker_runs "$BIN"; then
	log "cached build $OUT_DIR"
	use_binary "$BIN"
fi

# c. Build.
for tool in meson ninja g++ pkg-config flatc; do
	command -v "$tool" >/dev/null || die "$tool missing: run $0 --apt (packages: $HERE/apt-packages.txt)"
done
dpkg --compare-versions "$(meson --version)" ge 1.1.0 || die "meson >= 1.1 needed (meson/bookworm-backports): run $0 --apt"

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
flock 9 # one build at a time per cache dir
if ((!FORCE)) && worker_runs "$BIN"; then
	use_binary "$BIN" # built by a concurrent run while we waited
fi

WORK="$CACHE_ROOT/build-$MS_VERSION-$RECIPE"
SRC="$WORK/worker"
log "building mediasoup-worker $MS_VERSION (recipe $RECIPE, libsrtp: $SRTP_MODE) in $WORK"
rm -rf "$CACHE_ROOT"/build-* # stale trees of older recipes
mkdir -p "$WORK"

# Never build inside node_modules: copy the sources, minus upstream wraps.
cp -a "$MS_DIR/worker" "$SRC"
rm -rf "$SRC/out" "$SRC/subprojects/packagefiles" "$SRC"/subprojects/*.wrap
cp -a "$HERE/shims/." "$SRC/subprojects/"

if [[ "$SRTP_MODE" == source ]]; then
	# libsrtp 2.5 from Debian's source package (deb-src), unpacked once per cache.
	SRTP_SRC_ROOT="$CACHE_ROOT/debian-src"
	SRTP_SRC="$(find "$SRTP_SRC_ROOT" -maxdepth 1 -type d -name 'libsrtp2-*' 2>/dev/null | sort | tail -n1 || true)"
	if [[ -z "$SRTP_SRC" || ! -f "$SRTP_SRC/meson.build" ]]; then
		command -v dpkg-source >/dev/null || die "dpkg-dev missing: run $0 --apt"
		rm -rf "$SRTP_SRC_ROOT"
		mkdir -p "$SRTP_SRC_ROOT"
		log "apt-get source libsrtp2"
		(cd "$SRTP_SRC_ROOT" && apt-get source libsrtp2 >&2) ||
			die "apt-get source libsrtp2 failed (needs a deb-src line for bookworm and dpkg-dev)"
		SRTP_SRC="$(find "$SRTP_SRC_ROOT" -maxdepth 1 -type d -name 'libsrtp2-*' | sort | tail -n1)"
	fi
	[[ -f "$SRTP_SRC/meson.build" ]] || die "no meson.build in $SRTP_SRC"
	cp -a "$SRTP_SRC" "$SRC/subprojects/libsrtp2"
	rm -rf "$SRC/subprojects/libsrtp2/debian"
	mkdir -p "$SRC/subprojects/libsrtp3/srtp2"
	cp "$SRTP_SRC/include/srtp.h" "$SRC/subprojects/libsrtp3/srtp2/srtp.h"
else
	pkg-config --exists libsrtp2 || die "libsrtp2-dev missing: run $0 --apt"
fi

cd "$SRC"
# b_ndebug: with assertions on, flatbuffers asserts (and the worker aborts) on
# a comedia PlainTransport.connect.
meson setup build --wrap-mode=nodownload --buildtype=release -Db_ndebug=true \
	-Dlibsrtp3:tutti_srtp="$SRTP_MODE" >&2
# The FBS/*.h headers must exist before any worker source is compiled.
meson compile -C build flatbuffers-generator >&2
meson compile -C build mediasoup-worker >&2
worker_runs build/mediasoup-worker || die "built worker does not run"

# Publish atomically, plus what the srtp3-compat test needs to use the same libsrtp.
STAGE="$(mktemp -d "$CACHE_ROOT/.stage-XXXXXX")"
cp build/mediasoup-worker "$STAGE/mediasoup-worker"
if [[ "$SRTP_MODE" == source ]]; then
	mkdir -p "$STAGE/libsrtp/include/srtp2"
	cp subprojects/libsrtp3/srtp2/srtp.h "$STAGE/libsrtp/include/srtp2/"
	cp "$(find build/subprojects/libsrtp2 -name 'libsrtp2.a' | head -n1)" "$STAGE/libsrtp/"
	echo "-I$OUT_DIR/libsrtp/include|$OUT_DIR/libsrtp/libsrtp2.a $(pkg-config --libs libcrypto)" >"$STAGE/srtp-flags.txt"
else
	echo "$(pkg-config --cflags libsrtp2)|$(pkg-config --libs libsrtp2)" >"$STAGE/srtp-flags.txt"
fi
cat >"$STAGE/build-info.txt" <<EOF
mediasoup=$MS_VERSION
recipe=$RECIPE
srtp=$SRTP_MODE
source=$MS_DIR
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
rm -rf "$OUT_DIR"
mv "$STAGE" "$OUT_DIR"
chmod 755 "$OUT_DIR"
# The build tree is large and the recipe hash makes it reproducible.
[[ "${TUTTI_KEEP_BUILD:-0}" == 1 ]] || rm -rf "$WORK"
use_binary "$BIN"
