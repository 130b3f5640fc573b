"""Issue 17: a photo's type is read from its own bytes (services/registry/domain/photos.py)."""

from __future__ import annotations

import pytest

from services.registry.domain.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, check_photo, check_room
from services.runtime.errors import DomainError


@pytest.mark.parametrize(
    ("data", "media"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"RIFF\x24\x08\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_jpeg_png_and_webp_are_recognised_by_their_magic_number(data: bytes, media: str) -> None:
    assert check_photo(data) == media


@pytest.mark.parametrize(
    "data",
    [
        b"hello, I am a .jpg\n",  # a text file renamed
        b"GIF89a\x01\x00",
        b"%PDF-1.7\n",
        b"RIFF\x24\x08\x00\x00WAVEfmt ",  # RIFF, but sound
        b"RIFF",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_anything_else_is_refused_with_a_stable_code_at_the_file(data: bytes) -> None:
    with pytest.raises(DomainError) as refused:
        check_photo(data)
    assert (refused.value.code, refused.value.status, refused.value.details["field"]) == ("photo.type_not_allowed", 415, "file")
    assert refused.value.message_zh and refused.value.message_en


def test_size_and_count_limits() -> None:
    assert check_photo(b"\xff\xd8\xff" + b"x" * (MAX_PHOTO_BYTES - 3)) == "image/jpeg"
    with pytest.raises(DomainError) as big:
        check_photo(b"\xff\xd8\xff" + b"x" * (MAX_PHOTO_BYTES - 2))
    assert (big.value.code, big.value.status) == ("photo.too_large", 413)
    with pytest.raises(DomainError) as empty:
        check_photo(b"")
    assert (empty.value.code, empty.value.status) == ("document.empty", 400)
    check_room(MAX_PHOTOS - 1)
    with pytest.raises(DomainError) as full:
        check_room(MAX_PHOTOS)
    assert (full.value.code, full.value.status) == ("photo.too_many", 409)
