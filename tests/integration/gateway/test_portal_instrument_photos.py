"""Issue 17 in the portal: a unit uploads photos of its instrument through the
form on /unit/instruments/{id}/photos (multipart, with the CSRF token); a text
file named .jpg is refused at the file field, in Chinese and with ?lang=en in
English; the instrument's public page shows the photo (the image itself, sized
by width/height, its alt the instrument's name and index), served by the
portal with its type, a year's immutable caching and nosniff; the unit deletes
it. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, priced_instrument
from tests.support.portal import csrf_of, gateway

SERVICES = ["registry"]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"j" * 3000
NAME = "液相色谱质谱联用仪"


def file_error(html: str) -> str:
    """The error shown inside the label of the file input."""
    found = re.search(r'<input type="file" name="file"[^>]*><span class="field-error" role="alert">([^<]+)</span>', html)
    assert found, "no error at the file field"
    return found.group(1)


async def test_a_unit_uploads_a_photo_through_the_form_and_the_public_sees_it(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        mine = (await c.get("/unit/instruments")).text
        assert f'href="/unit/instruments/{iid}/photos"' in mine
        page = (await c.get(f"/unit/instruments/{iid}/photos")).text
        assert 'enctype="multipart/form-data"' in page and "尚未上传照片" in page
        assert "每台仪器最多 6 张照片，每张不超过 5 MB，格式为 JPEG、PNG、WebP" in page  # the registry's limits
        csrf = csrf_of(page)
        upload = f"/unit/instruments/{iid}/photos"

        # a text file renamed .jpg, declared image/jpeg: refused at the field, nothing kept
        fake = {"file": ("设备.jpg", b"not a photo at all\n" * 10, "image/jpeg")}
        r = await c.post(upload, data={"_csrf_token": csrf}, files=fake)
        assert r.status_code == 415 and file_error(r.text) == "照片仅支持 JPEG、PNG 或 WebP 格式", r.text
        assert "photo.type_not_allowed" not in r.text
        r = await c.post(f"{upload}?lang=en", data={"_csrf_token": csrf}, files=fake)
        assert r.status_code == 415 and file_error(r.text) == "a photo must be a JPEG, PNG or WebP image"
        # no file chosen: the portal's own refusal at the field (and back to Chinese)
        r = await c.post(f"{upload}?lang=zh", data={"_csrf_token": csrf}, files={"file": ("", b"", "application/octet-stream")})
        assert r.status_code == 400 and "请选择照片" in r.text and file_error(r.text), r.text
        # without the form's token: refused before anything is sent on
        r = await c.post(upload, files={"file": ("设备.jpg", JPEG, "image/jpeg")})
        assert r.status_code == 403
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"] == []

        # a real JPEG: back to the page, which shows it with its delete button
        r = await c.post(upload, data={"_csrf_token": csrf}, files={"file": ("设备.jpg", JPEG, "image/jpeg")})
        assert r.status_code == 303 and r.headers["location"] == f"{upload}?done=1", r.text
        (pid,) = [ph["photo_id"] for ph in (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"]]
        page = (await c.get(f"{upload}?done=1")).text
        assert "操作成功" in page and f'src="/instruments/{iid}/photos/{pid}"' in page
        assert f'action="/unit/instruments/{iid}/photos/{pid}/delete"' in page

        # a visitor's instrument page shows the image itself, sized, named by the instrument and its index
        c.cookies.clear()
        public = (await c.get(f"/instruments/{iid}")).text
        img = re.search(rf'<img src="/instruments/{iid}/photos/{pid}"[^>]*>', public)
        assert img, public
        assert 'width="240"' in img.group(0) and 'height="180"' in img.group(0) and f'alt="{NAME} 照片1"' in img.group(0)
        english = (await c.get(f"/instruments/{iid}?lang=en")).text
        assert f'alt="{NAME}, photo 1"' in english
        await c.get(f"/instruments/{iid}?lang=zh")
        r = await c.get(f"/instruments/{iid}/photos/{pid}")
        assert r.status_code == 200 and r.content == JPEG
        assert r.headers["content-type"] == "image/jpeg" and r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await c.get(f"/instruments/{iid}/photos/{'0' * 36}")).status_code == 404

        # the unit deletes it: gone from its page and from the instrument's
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        page = (await c.get(upload)).text
        r = await c.post(f"/unit/instruments/{iid}/photos/{pid}/delete", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 303, r.text
        assert "尚未上传照片" in (await c.get(upload)).text
        assert f"/instruments/{iid}/photos/{pid}" not in (await c.get(f"/instruments/{iid}")).text
        assert (await c.get(f"/instruments/{iid}/photos/{pid}")).status_code == 404

        # another unit's instrument: not its page to manage
        other = await approved_unit(p, name="许昌另一单位")
        c.cookies.set("xciss_session", p.token(Role.UNIT, other))
        assert (await c.get(upload)).status_code == 403


async def test_the_center_takes_down_a_units_photo_and_adds_one(make_settings) -> None:
    """The center reaches any instrument's photos from its public page (管理仪器照片), deletes the
    unit's photo (it showed what it should not) and uploads one for the unit; a unit's photos page
    under /center is the center's only: a unit is refused there."""
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/photos/", role=Role.UNIT, org=unit, content=JPEG, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 201, r.text
        (pid,) = [ph["photo_id"] for ph in (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"]]

        c.cookies.set("xciss_session", p.token(Role.CENTER))
        public = (await c.get(f"/instruments/{iid}")).text
        assert f'<a href="/center/instruments/{iid}/photos">管理仪器照片</a>' in public
        page_url = f"/center/instruments/{iid}/photos"
        page = (await c.get(page_url)).text
        assert f'action="/center/instruments/{iid}/photos/{pid}/delete"' in page and f'href="/instruments/{iid}"' in page
        r = await c.post(f"/center/instruments/{iid}/photos/{pid}/delete", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 303 and r.headers["location"] == f"{page_url}?done=1", r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"] == []
        page = (await c.get(page_url)).text
        r = await c.post(page_url, data={"_csrf_token": csrf_of(page)}, files={"file": ("设备.jpg", JPEG, "image/jpeg")})
        assert r.status_code == 303, r.text
        assert len((await p.call("registry", "GET", f"/v1/instruments/{iid}/photos/")).json()["items"]) == 1

        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        assert (await c.get(page_url)).status_code == 403
        assert "管理仪器照片" not in (await c.get(f"/instruments/{iid}")).text
