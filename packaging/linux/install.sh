#!/bin/sh
# Install Advice Desk from this folder (the unpacked tarball of `make package`).
#
#   ./install.sh            as root: into /opt/advice-desk, with a menu entry for everyone;
#                           as anyone else: into ~/.local/opt/advice-desk, for you alone
#   ./install.sh --prefix DIR     into DIR/opt/advice-desk, DIR/share, DIR/bin (a test install)
#   ./install.sh --uninstall [--prefix DIR]   remove the program and its menu entry
#
# The calls stay where the app keeps them (~/.local/share/advice-desk, see the README); the
# uninstall never touches them.
set -eu
ID=org.advicedesk.AdviceDesk
here=$(cd "$(dirname "$0")" && pwd)
prefix=""
uninstall=false
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --uninstall) uninstall=true; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see ./install.sh --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$prefix" ]; then
    if [ "$(id -u)" = 0 ]; then
        program=/opt/advice-desk; share=/usr/local/share; bin=/usr/local/bin
    else
        program=$HOME/.local/opt/advice-desk; share=$HOME/.local/share; bin=$HOME/.local/bin
    fi
else
    mkdir -p "$prefix"
    prefix=$(cd "$prefix" && pwd)
    program=$prefix/opt/advice-desk; share=$prefix/share; bin=$prefix/bin
fi
sizes="16 24 32 48 64 128 256 512"

if $uninstall; then
    rm -rf "$program"
    rm -f "$bin/advice-desk" "$share/applications/$ID.desktop" "$share/metainfo/$ID.metainfo.xml"
    for size in $sizes; do rm -f "$share/icons/hicolor/${size}x$size/apps/$ID.png"; done
    rm -f "$share/icons/hicolor/scalable/apps/$ID.svg"
    echo "Advice Desk removed from $program (the calls and settings were left where they are)"
    exit 0
fi

[ -x "$here/advice-desk/advice-desk" ] || { echo "install.sh: $here/advice-desk is missing" >&2; exit 1; }
# The new folder is put in place whole: an older copy goes only once the new one is there.
mkdir -p "$(dirname "$program")" "$bin" "$share/applications" "$share/metainfo"
rm -rf "$program.new"
cp -a "$here/advice-desk" "$program.new"
rm -rf "$program"
mv "$program.new" "$program"
ln -sf "$program/advice-desk" "$bin/advice-desk"
icons=$program/_internal/advice_desk/resources/icons
for size in $sizes; do
    mkdir -p "$share/icons/hicolor/${size}x$size/apps"
    cp "$icons/advice-desk-$size.png" "$share/icons/hicolor/${size}x$size/apps/$ID.png"
done
mkdir -p "$share/icons/hicolor/scalable/apps"
cp "$icons/advice-desk.svg" "$share/icons/hicolor/scalable/apps/$ID.svg"
# The menu entry names the program by its full path: ~/.local/bin is not on every PATH.
sed "s|^Exec=advice-desk|Exec=\"$program/advice-desk\"|" "$here/$ID.desktop" \
    > "$share/applications/$ID.desktop"
cp "$here/$ID.metainfo.xml" "$share/metainfo/$ID.metainfo.xml"
command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$share/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null 2>&1 \
    && gtk-update-icon-cache -q -t "$share/icons/hicolor" 2>/dev/null || true
echo "Advice Desk installed in $program; start it from the menu (Office) or with $bin/advice-desk"
