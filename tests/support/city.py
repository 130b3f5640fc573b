"""Another city than the packaged Xuchang for the tests that change the city file: Zhengzhou's
file with two of its divisions, and the settings read with a city file of one's own."""

from __future__ import annotations

from pathlib import Path

from services.runtime.settings import Settings

ZHENGZHOU = """name: {zh: 郑州市, en: Zhengzhou}
division_prefix: "4101"
divisions:
  "410102": 中原区
  "410103": 二七区
"""


def settings_of(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "city.yaml"
    path.write_text(text, encoding="utf-8")
    return Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_CITY_FILE": str(path), **env})
