#!/bin/sh
# make dist: the staged tree (what make install installs), the README and
# the license, as DISTDIR/batchline-VERSION-linux-ARCH.tar.gz with one
# top directory of the same name. VERSION is what the tools print with
# --version, ARCH the machine's (uname -m).
#
#   sh scripts/dist.sh STAGE DISTDIR
set -eu

stage=$1 distdir=$2
version=$("$stage/bin/batch-prepare" --version | awk '{ print $2 }')
name=batchline-$version-linux-$(uname -m)
work=$distdir/.$name.work
archive=$distdir/$name.tar.gz

rm -rf "$work"
mkdir -p "$work/$name"
trap 'rm -rf "$work"' EXIT
cp -R "$stage/bin" "$stage/lib" "$stage/share" "$work/$name/"
cp README.md LICENSE "$work/$name/"
# Files owned by root, in name order; the
# archive appears whole or not at all.
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner -czf "$work/$name.tar.gz" "$name"
mv "$work/$name.tar.gz" "$archive"
echo "dist: $archive"
