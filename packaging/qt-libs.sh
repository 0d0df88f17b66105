#!/bin/sh
# Before `make run` on Linux: the system libraries Qt's X11 plugin (libqxcb.so in the
# virtual environment's PySide6) needs and this PC lacks, found with ldd, and the one
# apt-get line that installs them. Silent, and exit 0, when nothing is missing or no X11
# display would be used (another platform, Wayland, or no display: the app says so itself).
#
#   sh packaging/qt-libs.sh .venv
set -eu
[ "$(uname -s)" = Linux ] || exit 0
case "${QT_QPA_PLATFORM:-}" in
    "") [ -n "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] || exit 0 ;;
    xcb*) ;;
    *) exit 0 ;;
esac
plugin=$(ls "$1"/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so 2>/dev/null \
         | head -n 1)
[ -n "$plugin" ] || exit 0
missing=$(ldd "$plugin" | awk '/not found/ { print $1 }' | sort -u)
[ -n "$missing" ] || exit 0
packages=""
for soname in $missing; do
    case "$soname" in
        libglib-2.0.so.*|libgthread-2.0.so.*) package=libglib2.0-0 ;;
        *)  # Debian's rule: libxcb-icccm.so.4 is in libxcb-icccm4, libxkbcommon-x11.so.0
            # in libxkbcommon-x11-0 (a hyphen after a name that ends in a digit)
            base=$(printf %s "${soname%%.so.*}" | tr '[:upper:]' '[:lower:]')
            number=${soname##*.so.}; number=${number%%.*}
            case "$base" in *[0-9]) package=$base-$number ;; *) package=$base$number ;; esac ;;
    esac
    case " $packages " in *" $package "*) ;; *) packages="$packages $package" ;; esac
done
echo "Qt cannot open a window on this PC: it needs system libraries that are not installed" >&2
echo "($(echo $missing | sed 's/ /, /g')). On Debian or Ubuntu, install them with:" >&2
echo "    sudo apt-get install$packages" >&2
exit 1
