#!/usr/bin/python3
"""Extracts the uncompressed ELF vmlinux from an xz-compressed bzImage (booted through PVH by qemu)."""
import lzma
import sys

data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
assert start >= 0, "no xz stream in " + sys.argv[1]
out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
assert out[:4] == b"\x7fELF", "the xz stream is not an ELF image"
open(sys.argv[2], "wb").write(out)
print("%s: %d bytes" % (sys.argv[2], len(out)))
