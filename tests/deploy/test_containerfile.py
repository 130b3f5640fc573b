"""Facts about deploy/Containerfile that CI can check without a container
engine (CI does not build the image)."""

from __future__ import annotations

import re
import tomllib

import pytest

from services.runtime.cli import build_parser
from tests.deploy.conftest import DEPLOY, ROOT

BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|cmake|python3?-dev|libpq-dev|cargo|rustc)\b")


def stages() -> list[list[str]]:
    """The Containerfile's instructions (continuations joined), per stage."""
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    lines = [ln for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    out: list[list[str]] = []
    for ln in lines:
        if ln.upper().startswith("FROM "):
            out.append([])
        if out:
            out[-1].append(ln.strip())
    return out


def test_two_stages_from_a_pinned_python_3_11_slim_bookworm() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base), base
    assert len(stages()) == 2
    assert all(s[0].startswith("FROM ${PYTHON_IMAGE}") for s in stages())


def test_the_final_stage_runs_as_uid_10001_without_build_tools() -> None:
    final = stages()[-1]
    users = [i.split(None, 1)[1] for i in final if i.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] == "10001"
    offending = [i for i in final if BUILD_TOOLS.search(i)]
    assert not offending, offending
    assert not any("apt-get install" in i or "pip install" in i for i in final), "the runtime stage installs nothing"
    assert any(i.startswith("COPY --from=builder /opt/xciss /opt/xciss") for i in final)


def test_the_builder_installs_the_wheel_with_the_otlp_exporter() -> None:
    builder = " ".join(stages()[0])
    assert "pip wheel" in builder and "[otlp]" in builder
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert "otlp" in extras


def test_the_entry_point_is_the_xciss_command_with_the_process_verbs() -> None:
    final = stages()[-1]
    (entry,) = [i for i in final if i.startswith("ENTRYPOINT")]
    assert entry == 'ENTRYPOINT ["xciss"]'
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["xciss"] == "services.runtime.cli:main"
    parser = build_parser()
    for argv in (["serve", "registry"], ["worker", "vouchers"], ["relay", "payments"], ["migrate", "evaluation"], ["streams"]):
        args = parser.parse_args(argv)
        assert args.cmd == argv[0]
    with pytest.raises(SystemExit):
        parser.parse_args(["api", "registry"])  # the "api" is `serve`
