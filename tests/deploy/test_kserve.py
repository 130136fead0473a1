"""deploy/kserve: the manifests fit KServe's resource schema, agree with each other, and the
ServingRuntime's container arguments really start ovserve on a workspace.

The schema check goes through the KServe SDK's generated models (tests/deploy/kserve_schema.py):
every key must be a known field of its object, every value of the field's type, and the
manifest must come back unchanged from the SDK objects.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import grpc
import pytest
import yaml

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from tests.deploy.kserve_schema import SchemaError, to_manifest, to_model
from tests.deploy.support import REPO_ROOT, free_port, get_json, running_ovserve
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

KSERVE = REPO_ROOT / "deploy" / "kserve"
RUNTIME = KSERVE / "servingruntime.yaml"
SERVICE = KSERVE / "inferenceservice.yaml"
MODEL_DIR = "/mnt/models"  # where KServe's storage initializer puts storageUri
SCHEMA = {RUNTIME.name: "V1alpha1ServingRuntime", SERVICE.name: "V1beta1InferenceService"}


def _load(path: Path) -> dict[str, object]:
    manifest = yaml.safe_load(path.read_text())
    assert isinstance(manifest, dict), f"{path}: not a mapping"
    return manifest


def _get(tree: object, *path: str | int) -> object:
    """`tree[path[0]][path[1]]...`, asserting each step exists."""
    for step in path:
        if isinstance(step, int):
            assert isinstance(tree, list), f"expected a list for item {step}, got {tree!r}"
            assert len(tree) > step, f"no item {step} in {tree!r}"
            tree = tree[step]
        else:
            assert isinstance(tree, dict), f"expected a mapping for {step!r}, got {tree!r}"
            assert step in tree, f"no {step!r} in {tree!r}"
            tree = tree[step]
    return tree


def _mapping(tree: object, *path: str | int) -> dict[str, object]:
    found = _get(tree, *path)
    assert isinstance(found, dict), f"{path}: not a mapping"
    return found


def _container() -> dict[str, object]:
    containers = _get(_load(RUNTIME), "spec", "containers")
    assert isinstance(containers, list)
    assert len(containers) == 1, containers
    container = containers[0]
    assert isinstance(container, dict)
    return container


def _args() -> list[str]:
    args = _container()["args"]
    assert isinstance(args, list)
    assert all(isinstance(arg, str) for arg in args), args
    return [str(arg) for arg in args]


def _flag(args: list[str], name: str) -> str:
    """The value of `--name=value` or `--name value` in `args`."""
    for index, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}":
            return args[index + 1]
    raise AssertionError(f"--{name} not in {args}")


@pytest.mark.parametrize("path", [RUNTIME, SERVICE], ids=lambda path: path.name)
def test_manifest_fits_the_kserve_schema(path: Path) -> None:
    manifest = _load(path)
    model = to_model(manifest, SCHEMA[path.name])
    assert to_manifest(model) == manifest


def test_schema_check_catches_typos_and_wrong_types() -> None:
    # The SDK's own deserializer would drop both silently; the check must not.
    typo = _load(RUNTIME)
    _mapping(typo, "spec", "containers", 0)["readynessProbe"] = {}
    with pytest.raises(SchemaError, match=r"spec\.containers\[0\]: V1Container has no field readynessProbe"):
        to_model(typo, "V1alpha1ServingRuntime")
    wrong_type = _load(SERVICE)
    _mapping(wrong_type, "spec", "predictor", "model", "modelFormat")["version"] = 1
    with pytest.raises(SchemaError, match=r"modelFormat\.version: expected str, got int"):
        to_model(wrong_type, "V1beta1InferenceService")


def test_inference_service_selects_the_runtime() -> None:
    runtime, service = _load(RUNTIME), _load(SERVICE)
    model = _get(service, "spec", "predictor", "model")
    assert isinstance(model, dict)
    assert model["runtime"] == _get(runtime, "metadata", "name")
    formats = _get(runtime, "spec", "supportedModelFormats")
    assert isinstance(formats, list)
    assert model["modelFormat"] in [{"name": f["name"], "version": f["version"]} for f in formats]
    protocols = _get(runtime, "spec", "protocolVersions")
    assert isinstance(protocols, list)
    assert model["protocolVersion"] in protocols
    storage_uri = model["storageUri"]
    assert isinstance(storage_uri, str)
    assert re.match(r"^[a-z0-9]+://", storage_uri), storage_uri
    # Two ports need KServe's Standard (raw Deployment) mode; Knative allows one port per container.
    annotations = _get(service, "metadata", "annotations")
    assert _get(annotations, "serving.kserve.io/deploymentMode") == "Standard"


def test_runtime_ports_probes_and_args_agree() -> None:
    runtime = _load(RUNTIME)
    assert _get(runtime, "spec", "protocolVersions") == ["v2", "grpc-v2"]
    container, args = _container(), _args()
    assert _get(container, "name") == "kserve-container"  # the name KServe merges the predictor into
    assert _flag(args, "config_path") == f"{MODEL_DIR}/config.json"
    rest, grpc_port = int(_flag(args, "rest_port")), int(_flag(args, "port"))
    assert (rest, grpc_port) == (8000, 9000)
    # One containerPort per protocol: REST first (the Service's port 80 goes to the first one),
    # then gRPC under a name containing "grpc", which KServe gives appProtocol kubernetes.io/h2c.
    ports = _get(container, "ports")
    assert ports == [
        {"name": "http1", "containerPort": rest, "protocol": "TCP"},
        {"name": "grpc", "containerPort": grpc_port, "protocol": "TCP"},
    ]
    for probe, path in [
        ("readinessProbe", "/v2/health/ready"),
        ("startupProbe", "/v2/health/ready"),
        ("livenessProbe", "/v2/health/live"),
    ]:
        assert _get(container, probe, "httpGet") == {"path": path, "port": rest}, probe
    assert _get(container, "securityContext", "runAsNonRoot") is True


def test_schema_check_leaves_the_manifest_alone() -> None:
    manifest = _load(RUNTIME)
    before = copy.deepcopy(manifest)
    to_model(manifest, "V1alpha1ServingRuntime")
    assert manifest == before


@pytest.mark.slow
def test_runtime_args_start_ovserve_on_a_workspace(tmp_path: Path) -> None:
    """The container's args, with /mnt/models -> an exported workspace and free ports, serve it."""
    workspace = exported_workspace().parent
    rest, grpc_port = free_port(), free_port()
    args = []
    for arg in _args():
        arg = arg.replace(MODEL_DIR, str(workspace))
        arg = re.sub(r"^--rest_port=8000$", f"--rest_port={rest}", arg)
        arg = re.sub(r"^--port=9000$", f"--port={grpc_port}", arg)
        args.append(arg)
    assert f"--rest_port={rest}" in args, args
    assert f"--port={grpc_port}" in args, args
    probe = _get(_container(), "readinessProbe", "httpGet", "path")
    with running_ovserve(args, f"http://127.0.0.1:{rest}{probe}", tmp_path / "ovserve.log"):
        config = get_json(f"http://127.0.0.1:{rest}/v1/config")
        state = _get(config, DEFAULT_GRAPH_NAME, "model_version_status", 0, "state")
        assert state == "AVAILABLE", config
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            server_ready = channel.unary_unary(
                "/inference.GRPCInferenceService/ServerReady",
                request_serializer=pb.ServerReadyRequest.SerializeToString,
                response_deserializer=pb.ServerReadyResponse.FromString,
            )
            assert server_ready(pb.ServerReadyRequest(), timeout=10).ready
