#!/bin/sh
# Builds the Debian package iidca_<version>_all.deb from the distribution that Maven assembled
# in cli/target/iidca (bin/, lib/, systemd/). Maven's cli module runs it in the package phase:
#   build-deb.sh DIST_DIR OUTPUT_DIR MAVEN_VERSION MAINTAINER
# The package installs the jars and the launcher under /usr/share/iidca, links /usr/bin/iidca
# to the launcher, and puts the systemd units in /lib/systemd/system. It has no conffiles: an
# instance's settings live in /etc/iidca, which iidca bootstrap writes, not the package.
# Without dpkg-deb (a build on another distribution) it prints why and exits 0.
set -eu

if [ $# -ne 4 ]; then
  echo "usage: build-deb.sh DIST_DIR OUTPUT_DIR MAVEN_VERSION MAINTAINER" >&2
  exit 2
fi
dist=$1
output=$2
maven_version=$3
maintainer=$4

if ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "build-deb: dpkg-deb not found, so no .deb is built (install the Debian package dpkg)"
  exit 0
fi

# Debian sorts "~" before anything, even the end of the string, so 0.1.0~snapshot comes before
# the release 0.1.0 (deb-version(7)). Maven's "-" is valid in a Debian upstream version only
# with a Debian revision, so it becomes "~" too.
version=$(printf '%s\n' "$maven_version" | sed -e 's/-SNAPSHOT$/~snapshot/' -e 's/-/~/g')
case $version in
  [0-9]*) ;;
  *)
    echo "build-deb: version '$version' (from Maven's '$maven_version') does not start" \
      "with a digit, as Debian requires" >&2
    exit 1
    ;;
esac

for required in "$dist/bin/iidca" "$dist/lib" "$dist/systemd"; do
  if [ ! -e "$required" ]; then
    echo "build-deb: $required not found; run the Maven package phase first" >&2
    exit 1
  fi
done

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
deb=$output/iidca_${version}_all.deb
# A staging tree and an output file of its own, renamed into place at the end, so that two
# builds running at once in the same tree cannot mix their files or leave a half-written .deb.
mkdir -p -- "$output/deb"
stage=$(mktemp -d "$output/deb/iidca_${version}_all.XXXXXX")
partial=$stage.deb
trap 'rm -rf -- "$stage" "$partial"' EXIT
chmod 0755 "$stage"
mkdir -p -- "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/iidca/bin" \
  "$stage/usr/share/iidca/lib" "$stage/lib/systemd/system"

# install -m sets each mode, so the package does not depend on the umask of the build.
install -m 0755 "$dist/bin/iidca" "$stage/usr/share/iidca/bin/iidca"
install -m 0644 "$dist"/lib/*.jar "$stage/usr/share/iidca/lib/"
install -m 0644 "$dist"/systemd/* "$stage/lib/systemd/system/"
# A relative link, as Debian uses within one top-level directory (/usr). The launcher follows
# the link to find ../lib.
ln -s ../share/iidca/bin/iidca "$stage/usr/bin/iidca"

installed_size=$(du -sk --apparent-size "$stage/usr" "$stage/lib" |
  awk '{ total += $1 } END { print total }')
sed -e "s|@VERSION@|$version|" -e "s|@INSTALLED_SIZE@|$installed_size|" \
  -e "s|@MAINTAINER@|$maintainer|" "$here/control" >"$stage/DEBIAN/control"
chmod 0644 "$stage/DEBIAN/control"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
(cd "$stage" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) \
  >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

# gzip, because the jars are compressed already. xz, dpkg-deb's default, made the 0.1.0 package
# only 2% smaller and took about 25 times as long, in one measurement on a busy 2-core VM.
dpkg-deb -Zgzip --build --root-owner-group "$stage" "$partial"
mv -f -- "$partial" "$deb"
