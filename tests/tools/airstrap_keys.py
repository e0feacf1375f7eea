"""airstrap's key derivations (node/credentials.hpp), written out over Python's hmac/hashlib
and `cryptography`'s Ed25519, independently of the C++: the one copy that the test tools
(protocol_vectors.py, attacker.py, media_secrets.py) share.
"""
import hashlib
import hmac

CREDENTIALS_SALT = b"airstrap credentials v2"


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def node_key(site_secret: bytes, name: str) -> bytes:
    return hkdf(site_secret, CREDENTIALS_SALT, b"node key\0" + name.encode())


def signing_seed(site_secret: bytes) -> bytes:
    return hkdf(site_secret, CREDENTIALS_SALT, b"controller signing key")


def public_key(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(seed: bytes, message: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def controller_public_key(site_secret: bytes) -> bytes:
    return public_key(signing_seed(site_secret))
