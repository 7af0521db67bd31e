#!/usr/bin/env bash
# CI: builds the Debian package (packaging/build-deb.sh), checks it with dpkg-deb and lintian,
# installs it with dpkg, runs `copkit --version` and `man copkit` from the installed paths,
# checks the desktop entry, MIME type, AppStream file, icons and completions are where the
# desktop looks for them, and removes the package. Runs as root (CI does); called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "deb-package: $*" >&2; exit 1; }

# dpkg-dev: dpkg-shlibdeps for the package's library dependencies; binutils: objcopy for the
# debug-symbol split; man-db to read the page; shared-mime-info and desktop-file-utils so that
# dpkg's triggers register the MIME type and desktop entry as on a desktop; lintian to check.
need=()
for tool in dpkg-shlibdeps:dpkg-dev objcopy:binutils man:man-db update-mime-database:shared-mime-info \
  update-desktop-database:desktop-file-utils lintian:lintian; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# The version is pinned so that a new cargo-deb cannot change the package under us.
if ! cargo deb --version 2>/dev/null | grep -q '3\.8\.0'; then
  cargo install cargo-deb --locked --version 3.8.0
fi

mapfile -t built < <(packaging/build-deb.sh "$@")
deb=${built[0]}
ddeb=${built[1]}
[ -f "$deb" ] && [ -f "$ddeb" ] || fail "build-deb.sh did not print a .deb and a .ddeb: ${built[*]}"
echo "package: $deb ($(du -k "$deb" | cut -f1) KiB), debug symbols: $ddeb ($(du -k "$ddeb" | cut -f1) KiB)"

dpkg-deb --info "$deb"
contents=$(dpkg-deb --contents "$deb")
echo "$contents"
for path in ./usr/bin/copkit ./usr/share/applications/copkit.desktop \
  ./usr/share/mime/packages/copkit.xml ./usr/share/metainfo/eu.copkit.Workbench.metainfo.xml \
  ./usr/share/icons/hicolor/scalable/apps/copkit.svg ./usr/share/icons/hicolor/48x48/apps/copkit.png \
  ./usr/share/icons/hicolor/256x256/apps/copkit.png ./usr/share/man/man1/copkit.1.gz \
  ./usr/share/man/man1/copkit-import.1.gz ./usr/share/man/man1/copkit-audit-verify.1.gz \
  ./usr/share/bash-completion/completions/copkit ./usr/share/zsh/vendor-completions/_copkit \
  ./usr/share/fish/vendor_completions.d/copkit.fish ./usr/share/doc/copkit/copyright; do
  grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
if grep -q "debug-crash-writer\|manpages\|completions\.1" <<<"$contents"; then
  fail "a hidden subcommand has a man page"
fi
dpkg-deb --contents "$ddeb" | grep -q '/usr/lib/debug/.build-id/' || fail "no debug file in $ddeb"

# The shipped binary carries no debug sections; the .ddeb has them.
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
# (.debug_gdb_scripts is not debug information: rustc puts that small section in every binary.)
if objdump -h "$unpacked/usr/bin/copkit" | grep -Eq '\.debug_(info|line|str|abbrev|ranges|loc)'; then
  fail "the packaged binary still has debug sections"
fi
echo "binary: $(du -k "$unpacked/usr/bin/copkit" | cut -f1) KiB stripped"

# Lintian's warnings are reported, its errors fail the step.
# The maintainer address in Cargo.toml is a placeholder (copkit-workbench@localhost) until an
# agency's packager puts theirs: lintian's two tags about it are the only errors suppressed.
lintian --tag-display-limit 0 --fail-on error \
  --suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog "$deb"

# A minimised image (Docker's) keeps dpkg from installing man pages; this package's are what
# we check, so they are let through.
dpkg --path-include='/usr/share/man/man1/copkit*' -i "$deb"
trap 'dpkg -r copkit >/dev/null 2>&1 || true; rm -rf "$unpacked"' EXIT

[ "$(command -v copkit)" = /usr/bin/copkit ] || fail "copkit on PATH is $(command -v copkit), not /usr/bin/copkit"
version=$(/usr/bin/copkit --version)
version_expected="copkit $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
[ "$version" = "$version_expected" ] || fail "copkit --version printed '$version', expected '$version_expected'"
# Read whole before matching: grep -q closing the pipe early would fail it under pipefail.
page=$(MANPAGER=cat MANWIDTH=80 man copkit)
echo "$page"
grep -q "verify-sources" <<<"$page" || fail "man copkit does not list the subcommands"
page=$(MANPAGER=cat man copkit-import)
grep -q -- "--purpose" <<<"$page" || fail "man copkit-import lacks --purpose"
registered=$(bash -c 'source /usr/share/bash-completion/completions/copkit && complete -p copkit')
grep -q "_copkit" <<<"$registered" || fail "the bash completion does not register for copkit"

# dpkg's triggers have run: the MIME database knows *.copkit and the desktop entry handles it.
grep -q 'glob pattern="\*.copkit"' /usr/share/mime/application/x-copkit-case.xml ||
  fail "the MIME database has no application/x-copkit-case after install"
grep -q 'application/x-copkit-case=copkit.desktop' /usr/share/applications/mimeinfo.cache ||
  fail "mimeinfo.cache does not send .copkit files to copkit.desktop"
desktop-file-validate /usr/share/applications/copkit.desktop
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net /usr/share/metainfo/eu.copkit.Workbench.metainfo.xml
fi

dpkg -r copkit
[ ! -e /usr/bin/copkit ] || fail "/usr/bin/copkit is still there after dpkg -r"
[ ! -e /usr/share/mime/application/x-copkit-case.xml ] || fail "the MIME type outlived the package"
echo "deb-package: built, checked, installed, ran and removed $(basename "$deb")"
