"""Issue 17: an instrument's photos. The owning unit (or the center) uploads
JPEG, PNG or WebP images, judged by their bytes; at most six, 5 MiB each; the
public lists them and reads their bytes (immutable, cached for a year, nosniff)
once the instrument is listed; another unit is refused; each upload and
deletion is in the audit trail. On SQLite and PostgreSQL, and with the bytes in
S3-compatible storage (moto)."""

from __future__ import annotations

import hashlib

from minio import Minio

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, priced_instrument
from tests.support.s3 import ACCESS, SECRET, s3_endpoint, s3_settings  # noqa: F401  (the moto fixture)

SERVICES = ["registry"]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"j" * 3000
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 2000
WEBP = b"RIFF\x24\x08\x00\x00WEBPVP8 " + b"w" * 2000
MIB = 1024 * 1024


def photo(n: int) -> bytes:
    """A distinct JPEG (the same bytes twice are refused as a duplicate)."""
    return JPEG + str(n).encode()


async def upload(p: Platform, iid: str, data: bytes, *, org: str | None, role: Role = Role.UNIT, name: str = "photo.jpg", declared: str = "image/jpeg"):
    return await p.call("registry", "POST", f"/v1/instruments/{iid}/photos/", role=role, org=org, files={"file": (name, data, declared)})


async def test_a_unit_uploads_lists_serves_and_deletes_photos(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)

        # a JPEG in a multipart form, a PNG as a raw body (its declared type is ignored), a WebP by the center
        r = await upload(p, iid, JPEG, org=unit)
        assert r.status_code == 201, r.text
        first = r.json()
        assert (first["content_type"], first["size"], first["sha256"], first["uploaded_by_role"]) == ("image/jpeg", len(JPEG), hashlib.sha256(JPEG).hexdigest(), "unit")
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/photos/", role=Role.UNIT, org=unit, content=PNG, headers={"Content-Type": "image/jpeg"})
        assert r.status_code == 201 and r.json()["content_type"] == "image/png", r.text
        r = await upload(p, iid, WEBP, org=None, role=Role.CENTER, name="x.webp", declared="image/webp")
        assert r.status_code == 201 and r.json()["content_type"] == "image/webp" and r.json()["uploaded_by_role"] == "center", r.text
        third = r.json()

        # anybody lists them, oldest first, with the limits
        listed = (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()
        assert [ph["content_type"] for ph in listed["items"]] == ["image/jpeg", "image/png", "image/webp"]
        assert (listed["max_photos"], listed["max_bytes"], listed["content_types"]) == (6, 5 * MIB, ["image/jpeg", "image/png", "image/webp"])

        # the bytes come back equal, typed by what they are, immutable and not to be sniffed
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/{first['photo_id']}")
        assert r.status_code == 200 and r.content == JPEG, r.text
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["x-content-type-options"] == "nosniff"
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/{third['photo_id']}")
        assert r.content == WEBP and r.headers["content-type"] == "image/webp"

        # another unit may neither add nor delete; the photos stay as they were
        other = await approved_unit(p, name="许昌另一单位")
        r = await upload(p, iid, photo(1), org=other)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", r.text
        r = await p.call("registry", "DELETE", f"/v1/instruments/{iid}/photos/{first['photo_id']}", role=Role.UNIT, org=other)
        assert r.status_code == 403, r.text
        r = await upload(p, iid, photo(1), org=None, role=Role.USER)
        assert r.status_code == 403, r.text
        assert len((await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"]) == 3

        # the unit deletes one: gone from the list, its address 404
        r = await p.call("registry", "DELETE", f"/v1/instruments/{iid}/photos/{first['photo_id']}", role=Role.UNIT, org=unit)
        assert r.status_code == 204, r.text
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/{first['photo_id']}")
        assert r.status_code == 404 and r.json()["code"] == "photo.not_found", r.text
        assert [ph["photo_id"] for ph in (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"]][-1] == third["photo_id"]
        r = await p.call("registry", "DELETE", f"/v1/instruments/{iid}/photos/{first['photo_id']}", role=Role.UNIT, org=unit)
        assert r.status_code == 404, r.text

        # every upload and the deletion are in the audit trail, as the API answered them
        trail = (await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"object_id": iid})).json()["items"]
        photo_rows = [e for e in trail if e["action"].startswith("instrument.photo_")]
        assert [e["action"] for e in photo_rows] == ["instrument.photo_delete"] + ["instrument.photo_upload"] * 3  # newest first
        assert photo_rows[0]["before"] == first and photo_rows[0]["actor_role"] == "unit"
        assert photo_rows[1]["after"] == third and photo_rows[1]["actor_role"] == "center"


async def test_what_is_not_an_accepted_image_is_refused_at_the_file(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)

        refusals = [
            (b"just some text, renamed to look like a photo\n" * 20, "photo.jpg", 415, "photo.type_not_allowed"),  # the name and type lie
            (b"GIF89a" + b"g" * 100, "anim.gif", 415, "photo.type_not_allowed"),
            (b"%PDF-1.7\n" + b"x" * 100, "scan.jpg", 415, "photo.type_not_allowed"),
            (b"", "empty.jpg", 400, "document.empty"),
            (JPEG + b"x" * (5 * MIB), "big.jpg", 413, "photo.too_large"),
        ]
        for data, name, status, code in refusals:
            r = await upload(p, iid, data, org=unit, name=name)
            assert r.status_code == status and r.json()["code"] == code, (name, r.text)
            body = r.json()
            assert body["details"]["field"] == "file" and body["message_zh"] and body["message_en"], body
        # a raw body over the limit is refused too, and none of these was kept
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/photos/", role=Role.UNIT, org=unit, content=JPEG + b"x" * (5 * MIB))
        assert r.status_code == 413 and r.json()["code"] == "photo.too_large", r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"] == []
        # exactly 5 MiB is accepted
        r = await upload(p, iid, JPEG + b"x" * (5 * MIB - len(JPEG)), org=unit)
        assert r.status_code == 201, r.text

        # six at most; the same bytes twice are one photo
        r = await upload(p, iid, photo(1), org=unit)
        assert r.status_code == 201, r.text
        r = await upload(p, iid, photo(1), org=unit)
        assert r.status_code == 409 and r.json()["code"] == "photo.duplicate", r.text
        for n in range(2, 6):
            assert (await upload(p, iid, photo(n), org=unit)).status_code == 201
        r = await upload(p, iid, photo(6), org=unit)
        assert r.status_code == 409 and r.json()["code"] == "photo.too_many" and r.json()["details"]["max_photos"] == 6, r.text
        assert "最多" in r.json()["message_zh"]
        assert len((await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"]) == 6

        # unknown instrument; retired instrument
        assert (await upload(p, iid[:-4] + "0000", photo(9), org=unit)).status_code == 404
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/retire", role=Role.UNIT, org=unit, json={"reason": "设备老化"})
        assert r.status_code == 200, r.text
        gone = (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/", role=Role.UNIT, org=unit)).json()["items"][0]
        r = await p.call("registry", "DELETE", f"/v1/instruments/{iid}/photos/{gone['photo_id']}", role=Role.UNIT, org=unit)
        assert r.status_code == 204, r.text  # room is made even on a retired instrument
        r = await upload(p, iid, photo(9), org=unit)
        assert r.status_code == 409 and r.json()["code"] == "instrument.retired", r.text


async def test_an_unlisted_instruments_photos_are_its_units_and_private(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit, listed=False)
        r = await upload(p, iid, PNG, org=unit, name="a.png", declared="image/png")
        assert r.status_code == 201, r.text
        pid = r.json()["photo_id"]
        # the public does not see the instrument, nor its photos
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).status_code == 404
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/{pid}")).status_code == 404
        # its unit does, and no shared cache may keep the bytes
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/{pid}", role=Role.UNIT, org=unit)
        assert r.status_code == 200 and r.content == PNG and r.headers["cache-control"] == "private, max-age=31536000, immutable", r.text


async def test_photos_go_to_s3_under_their_sha256(make_settings, s3_endpoint: str, backend: str) -> None:  # noqa: F811
    settings = await make_settings(SERVICES, **s3_settings(s3_endpoint, f"photos-{backend}", "xciss/docs"))
    async with running(Platform(settings, SERVICES)) as p:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)
        r = await upload(p, iid, JPEG, org=unit)
        assert r.status_code == 201, r.text
        sha = hashlib.sha256(JPEG).hexdigest()
        client = Minio(s3_endpoint, access_key=ACCESS, secret_key=SECRET, secure=False)
        obj = client.get_object(f"photos-{backend}", f"xciss/docs/{sha[:2]}/{sha}")
        try:
            assert obj.read() == JPEG
        finally:
            obj.close()
            obj.release_conn()
        assert not (settings.data_dir / "documents").exists()
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/{r.json()['photo_id']}")
        assert r.status_code == 200 and r.content == JPEG
