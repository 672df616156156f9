#!/usr/bin/env python3
"""An independent check of a Sigil `.tlog-proof` file, written against the
specifications only (C2SP tlog-proof, tlog-checkpoint, signed-note; RFC 9162
§2.1.3.2) with nothing but the Python standard library. It shares no code with
Sigil's Rust implementation, so the two agreeing is evidence that the files
Sigil publishes can be checked by tools nobody here wrote.

It checks the proof's structure and that the inclusion proof leads from
SHA-256(0x00 || extra) to the checkpoint's root. Signature verification
needs an Ed25519 implementation, which the standard library lacks: pass
--vkey and have the `cryptography` package installed to check the log's
signature too.

Usage: verify_tlog_proof.py FILE.tlog-proof [--origin ORIGIN] [--vkey VKEY]
Exit status 0 when every requested check passes.
"""
import base64
import hashlib
import sys


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def b64(s):
    try:
        raw = base64.b64decode(s, validate=True)
    except Exception as e:  # noqa: BLE001
        fail(f"bad base64 {s!r}: {e}")
    if base64.b64encode(raw).decode() != s:
        fail(f"non-canonical base64 {s!r}")
    return raw


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index, size, leaf, proof):
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:
        fail(f"index {index} >= tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            fail("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("inclusion proof too short")
    return r


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    path, origin, vkey = argv[0], None, None
    rest = argv[1:]
    while rest:
        flag, value, rest = rest[0], rest[1] if len(rest) > 1 else None, rest[2:]
        if flag == "--origin":
            origin = value
        elif flag == "--vkey":
            vkey = value
        else:
            fail(f"unknown flag {flag}")
    text = open(path, "rb").read().decode("utf-8")
    lines = text.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail("first line is not c2sp.org/tlog-proof@v1")
    i = 1
    extra = None
    if lines[i].startswith("extra "):
        extra = b64(lines[i][len("extra "):])
        i += 1
    if not lines[i].startswith("index "):
        fail("missing index line")
    index_text = lines[i][len("index "):]
    if not index_text.isdigit() or (len(index_text) > 1 and index_text[0] == "0"):
        fail(f"bad index {index_text!r}")
    index = int(index_text)
    i += 1
    proof = []
    while lines[i] != "":
        h = b64(lines[i])
        if len(h) != 32:
            fail(f"proof line {i + 1} is not a SHA-256 hash")
        proof.append(h)
        i += 1
    note = "\n".join(lines[i + 1:])
    body, _, sigs = note.partition("\n\n")
    body_lines = body.split("\n")
    if len(body_lines) < 3:
        fail("checkpoint body has fewer than three lines")
    cp_origin, cp_size, cp_root = body_lines[0], int(body_lines[1]), b64(body_lines[2])
    if origin is not None and cp_origin != origin:
        fail(f"checkpoint origin {cp_origin!r} is not {origin!r}")
    if extra is None:
        fail("no extra line: a Sigil proof carries the entry there")
    root = root_from_inclusion_proof(index, cp_size, leaf_hash(extra), proof)
    if root != cp_root:
        fail("inclusion proof does not lead to the checkpoint root")
    print(f"OK: entry {index} ({len(extra)} bytes) is in {cp_origin} at size {cp_size}")
    if vkey is not None:
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            fail("--vkey needs the `cryptography` package")
        name, keyid_hex, key_b64 = vkey.split("+", 2)
        key = b64(key_b64)
        if key[0] != 1 or len(key) != 33:
            fail("not an Ed25519 verifier key")
        keyid = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
        if keyid.hex() != keyid_hex:
            fail("verifier key id does not match its key")
        pub = Ed25519PublicKey.from_public_bytes(key[1:])
        for line in sigs.split("\n"):
            if not line.startswith("\u2014 "):
                continue
            sig_name, sig_b64 = line[2:].split(" ")
            sig = b64(sig_b64)
            if sig_name == name and sig[:4] == keyid:
                pub.verify(sig[4:], (body + "\n").encode())
                print(f"OK: checkpoint signed by {name}")
                return 0
        fail(f"no signature by {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
