#!/usr/bin/env python3
"""Test vectors for the enrolment protocol v2 (firstboot/protocol.hpp, node/credentials.hpp),
computed independently of airstrap's C++: HKDF (RFC 5869) written out here over Python's
hmac/hashlib, Ed25519 from the `cryptography` package (Debian: python3-cryptography).

    tests/tools/protocol_vectors.py > tests/data/protocol-vectors.json

tests/unit/firstboot/protocol_test.cpp checks the C++ against the file. Every input is fixed
(Ed25519 signatures are deterministic), so the output is the same on every run.
"""
import hashlib
import hmac
import json
import struct
import sys

from airstrap_keys import hkdf, node_key, public_key, sign, signing_seed


ENROL_SALT = b"airstrap enrol v2"


def field(b) -> bytes:
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def key_list(keys) -> bytes:
    return field(str(len(keys))) + b"".join(field(k) for k in keys)


def t1(hello, challenge) -> bytes:
    return (field("airstrap enrol v2") + field(hello["node"]) + field(hello["purpose"]) +
            field(bytes.fromhex(hello["nonce"])) + key_list(hello["host_keys"]) +
            field(hello["body"]) + field(bytes.fromhex(challenge["nonce"])) +
            key_list(challenge["host_keys"]))


ED_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1aWxkIG1hY2hpbmUgdGVzdCBrZXkgZm9yIHY"
ED_KEY2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNvbnRyb2xsZXIgaG9zdCBrZXkgZm9yIHRlc3Q"
RSA_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDnode2hostkeyfortestsonly0123456789"


def session(site_secret, seed, node, purpose, body, ok, error, result_body, n_hello, n_chal):
    keys = {"proof": hkdf(node_key(site_secret, node), ENROL_SALT, b"node proof v2")}
    hello = {"node": node, "purpose": purpose, "nonce": n_hello.hex(),
             "host_keys": sorted([ED_KEY, RSA_KEY]), "body": body}
    challenge = {"nonce": n_chal.hex(), "host_keys": [ED_KEY2]}
    transcript = t1(hello, challenge)
    sig = sign(seed, transcript)
    proof = hmac.new(keys["proof"], transcript + field(sig), hashlib.sha256).digest()
    result_msg = (transcript + field(sig) + field(proof) + field("ok" if ok else "refused") +
                  field(error) + field(result_body))
    return {
        "hello": hello,
        "challenge": dict(challenge, sig=sig.hex()),
        "t1": transcript.hex(),
        "response": {"proof": proof.hex()},
        "result": {"ok": ok, "error": error, "body": result_body,
                   "sig": sign(seed, result_msg).hex()},
    }


def main():
    site_secret = bytes(range(32))
    seed = signing_seed(site_secret)
    names = ["controller", "compute-node", "network-node"]
    nodes = {}
    for n in names:
        k = node_key(site_secret, n)
        nodes[n] = {
            "node_key": k.hex(),
            "beacon_key": hkdf(k, ENROL_SALT, b"beacon v2").hex(),
            "proof_key": hkdf(k, ENROL_SALT, b"node proof v2").hex(),
        }
    beacon_nonce = bytes.fromhex("00112233445566778899aabbccddeeff")
    beacon_key = bytes.fromhex(nodes["compute-node"]["beacon_key"])
    beacon_mac = hmac.new(beacon_key, field("airstrap beacon v2") + field("compute-node") +
                          field(beacon_nonce), hashlib.sha256).digest()
    out = {
        "about": "tests/tools/protocol_vectors.py: enrolment protocol v2, computed in Python",
        "site_secret": site_secret.hex(),
        "controller_signing_seed": seed.hex(),
        "controller_public_key": public_key(seed).hex(),
        "nodes": nodes,
        "sessions": [
            session(site_secret, seed, "compute-node", "enrol", "{}", True, "",
                    '{"controller_key":"' + ED_KEY + '","replaces":[]}',
                    bytes([0xa5] * 32), bytes(range(100, 132))),
            session(site_secret, seed, "network-node", "report", '{"steps":[]}', False,
                    "not enrolled yet", "", bytes(range(32, 64)), bytes([0x5a] * 32)),
        ],
        "beacon": {"node": "compute-node", "nonce": beacon_nonce.hex(), "mac": beacon_mac.hex()},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
