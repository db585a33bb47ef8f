#!/bin/sh
# The tree that `make install` copies and `make dist` packs, laid out as
# under PREFIX:
#   bin/            the eight tools of the portable build
#   lib/batchline/  the Swift runtime and Foundation libraries they load
#   share/man/      their manual pages and batchline.7
#
#   SWIFT=swift sh scripts/stage.sh BUILD STAGE TOOL...
#
# BUILD holds the tools, linked to find their libraries in
# $ORIGIN/../lib/batchline only. Only the libraries that come from the
# toolchain's runtime directory (as $SWIFT reports it) are copied: the C
# library, libstdc++, libcurl and the rest belong to the system. STAGE is
# built beside and swapped in at the end.
set -eu

build=$1 stage=$2
shift 2
runtime=$(${SWIFT:-swift} -print-target-info |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["paths"]["runtimeLibraryPaths"][0])')
runtime=${runtime%/}
new=$stage.new
rm -rf "$new"
mkdir -p "$new/bin" "$new/lib/batchline" "$new/share/man/man1" "$new/share/man/man7"

for tool; do
  cp "$build/$tool" "$new/bin/$tool"
done

# ldd names each library as the loader resolves it: with RUNTIME searched
# first, the toolchain's own are exactly those under RUNTIME.
LD_LIBRARY_PATH=$runtime ldd "$new"/bin/* |
  awk -v dir="$runtime/" 'index($3, dir) == 1 { print $3 }' | sort -u > "$new/libraries"
if [ ! -s "$new/libraries" ]; then
  echo "stage: the tools in $build load no library from $runtime" >&2
  exit 1
fi
while read -r library; do
  cp "$library" "$new/lib/batchline/"
done < "$new/libraries"
rm "$new/libraries"

# From here the staged tools run on their own copies of the libraries.
for tool; do
  python3 scripts/manpage.py tool "$new/bin/$tool" > "$new/share/man/man1/$tool.1"
done
python3 scripts/manpage.py overview man/batchline.7.in Makefile "$new/bin/$1" > "$new/share/man/man7/batchline.7"

rm -rf "$stage"
mv "$new" "$stage"
