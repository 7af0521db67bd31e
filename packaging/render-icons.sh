#!/usr/bin/env bash
# Renders packaging/icons/copkit.svg to the PNG sizes the hicolor theme uses
# (packaging/icons/copkit-SIZE.png, committed). Needs rsvg-convert (Debian: librsvg2-bin).
# Run again after changing the SVG.
set -euo pipefail
dir=$(cd "$(dirname "$0")/icons" && pwd)
for size in 16 24 32 48 64 128 256; do
  rsvg-convert --width "$size" --height "$size" "$dir/copkit.svg" -o "$dir/copkit-$size.png"
done
