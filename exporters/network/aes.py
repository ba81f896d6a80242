"""AES-128 in CFB-128 mode (RFC 3826, SNMPv3 privacy) from the OpenSSL the interpreter already loaded.

`hashlib` runs on the system's libcrypto, so an SNMPv3 exporter has it mapped before its first MAC; calling
its EVP interface through ctypes costs ~0.6 MiB, where `cryptography` maps its own statically linked
OpenSSL and holds ~10 MiB more for the process' life (`bench/aes_cfb.py` measures both and checks they
write the same bytes). Where no libcrypto is found (an interpreter built without OpenSSL), `cryptography`
serves instead.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections.abc import Callable
from pathlib import Path

KEY_BYTES = 16
Crypt = Callable[[bytes, bytes, bytes], bytes]


def _libcrypto_path() -> str | None:
    hashlib.sha1()  # noqa: S324 - loads OpenSSL through _hashlib when the interpreter has it
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1]
        if "/libcrypto.so" in path:
            return path
    return None


def _evp(path: str) -> tuple[Crypt, Crypt]:
    lib = ctypes.CDLL(path)
    ptr, cbuf, cint = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    lib.EVP_CIPHER_CTX_new.restype = ptr
    lib.EVP_CIPHER_CTX_new.argtypes = []
    lib.EVP_aes_128_cfb128.restype = ptr
    lib.EVP_aes_128_cfb128.argtypes = []
    lib.EVP_CipherInit_ex.argtypes = [ptr, ptr, ptr, cbuf, cbuf, cint]
    lib.EVP_CipherUpdate.argtypes = [ptr, cbuf, ctypes.POINTER(cint), cbuf, cint]
    lib.EVP_CIPHER_CTX_free.argtypes = [ptr]
    lib.EVP_CIPHER_CTX_free.restype = None
    cipher = lib.EVP_aes_128_cfb128()

    def run(key: bytes, iv: bytes, data: bytes, encrypt: int) -> bytes:
        if len(key) != KEY_BYTES or len(iv) != KEY_BYTES:
            raise ValueError("AES-128-CFB takes a 16-byte key and a 16-byte IV")
        ctx = lib.EVP_CIPHER_CTX_new()
        if not ctx:
            raise MemoryError("EVP_CIPHER_CTX_new failed")
        try:
            out = ctypes.create_string_buffer(len(data) or 1)
            written = cint(0)
            if lib.EVP_CipherInit_ex(ctx, cipher, None, key, iv, encrypt) != 1:
                raise ValueError("EVP_CipherInit_ex failed")
            if lib.EVP_CipherUpdate(ctx, out, ctypes.byref(written), data, len(data)) != 1:
                raise ValueError("EVP_CipherUpdate failed")
            return out.raw[: written.value]  # CFB is a stream mode: no final block
        finally:
            lib.EVP_CIPHER_CTX_free(ctx)

    return (lambda k, i, d: run(k, i, d, 1)), (lambda k, i, d: run(k, i, d, 0))


def _cryptography() -> tuple[Crypt, Crypt]:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    def encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
        return Cipher(algorithms.AES(key), CFB(iv)).encryptor().update(data)

    def decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
        return Cipher(algorithms.AES(key), CFB(iv)).decryptor().update(data)

    return encrypt, decrypt


def _load() -> tuple[Crypt, Crypt]:
    path = _libcrypto_path()
    if path is not None:
        try:
            return _evp(path)
        except (OSError, AttributeError):  # an OpenSSL without the symbol: fall back
            pass
    return _cryptography()


encrypt_cfb, decrypt_cfb = _load()
