"""USM key localisation against the test vectors of RFC 3414 appendix A.3."""

from __future__ import annotations

import pytest

from exporters.network.usm import localized_key

ENGINE_ID = bytes.fromhex("000000000000000000000002")


@pytest.mark.parametrize(
    ("hash_name", "expected"),
    [
        ("md5", "526f5eed9fcce26f8964c2930787d82b"),  # A.3.1
        ("sha1", "6695febc9288e36282235fc7151f128497b38f3f"),  # A.3.2
    ],
)
def test_localized_keys_match_rfc_3414(hash_name: str, expected: str) -> None:
    assert localized_key(hash_name, b"maplesyrup", ENGINE_ID).hex() == expected
