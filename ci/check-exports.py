#!/usr/bin/env python3
"""Fails unless a wasm module exports the given functions.

cosmwasm-check accepts a module that exports no `instantiate` or `execute`
(for example a crate whose entry points were compiled out by a `library`
feature), so the pipeline checks the export section itself.
"""
import sys


def leb128(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def exports(path):
    data = open(path, "rb").read()
    if data[:4] != b"\0asm":
        sys.exit(f"{path}: not a wasm module")
    pos, found = 8, {}
    while pos < len(data):
        section, pos = data[pos], pos + 1
        size, pos = leb128(data, pos)
        end = pos + size
        if section == 7:
            count, p = leb128(data, pos)
            for _ in range(count):
                length, p = leb128(data, p)
                name = data[p : p + length].decode()
                p += length
                kind = data[p]
                _, p = leb128(data, p + 1)
                found[name] = kind
        pos = end
    return found


def main():
    path, required = sys.argv[1], sys.argv[2:]
    found = exports(path)
    missing = [n for n in required if found.get(n) != 0]
    if missing:
        sys.exit(f"{path}: missing exported functions {missing}; exports are {sorted(found)}")
    print(f"{path}: exports {', '.join(required)} ok")


if __name__ == "__main__":
    main()
