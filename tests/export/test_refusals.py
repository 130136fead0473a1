"""Every refusal of `ovserve export embeddings`: exit code 2, one line on stderr, nothing written.

These run no conversion: refusals happen before the slow steps, so a fake source folder
(a config.json and nothing else) is enough.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from ovserve.export.cli import main


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "max_position_embeddings": 512}))
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def _args(source: Path, repo: Path, *extra: str) -> list[str]:
    return [
        "embeddings",
        "--source_model",
        str(source),
        "--model_repository_path",
        str(repo),
        "--model_name",
        "org/model",
        *extra,
    ]


def _assert_refused(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert err.count("\n") == 1, f"expected one line, got {err!r}"
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--weight-format", "int3"], ["--weight-format", "invalid choice", "int3"]),
        (["--precision", "bf16"], ["invalid choice", "bf16"]),
        (["--num_streams", "0"], ["--num_streams must be a positive integer"]),
        (["--num_streams", "two"], ["--num_streams", "invalid int value"]),
        (["--version", "0"], ["--version must be a positive integer"]),
        (["--pooling", "MAX"], ["--pooling", "invalid choice"]),
        (["--layout", "tree"], ["--layout", "invalid choice"]),
        (["--max_length", "1"], ["--max_length must be an integer >= 2"]),
        (["--max_length", "513"], ["--max_length 513 exceeds the model's positional limit 512"]),
        (["--execution_precision", "f64"], ["--execution_precision", "invalid choice"]),
        (["--target_device", " "], ["--target_device must not be empty"]),
        (["--extra_quantization_params=--awq"], ["--extra_quantization_params", "--awq"]),
        (["--extra_quantization_params", "--ratio 2"], ["--ratio must be in (0, 1]"]),
        (
            ["--weight-format", "fp32", "--extra_quantization_params=--sym"],
            ["applies to int8/int4 only"],
        ),
        (["--bogus"], ["unrecognized arguments: --bogus"]),
    ],
)
def test_bad_flag_values_are_refused(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path, extra: list[str], fragments: list[str]
) -> None:
    code, err = _run(capsys, _args(source, repo, *extra))
    _assert_refused(code, err, *fragments)
    assert not repo.exists()


def test_missing_task_and_missing_source_flag(capsys: pytest.CaptureFixture[str]) -> None:
    _assert_refused(*_run(capsys, []), "required")
    _assert_refused(*_run(capsys, ["embeddings"]), "--source_model")


def test_source_that_does_not_exist(capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Path) -> None:
    code, err = _run(capsys, _args(tmp_path / "nowhere", repo))
    _assert_refused(code, err, "nowhere", "no such directory")
    assert not repo.exists()


def test_source_without_config_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, err = _run(capsys, _args(tmp_path / "empty", repo))
    _assert_refused(code, err, "no config.json")


def test_source_with_malformed_config_json(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path
) -> None:
    (source / "config.json").write_text("{not json")
    _assert_refused(*_run(capsys, _args(source, repo)), "config.json: cannot read JSON")


@pytest.mark.parametrize("name", ["../outside", "/abs/name", "a//b", "a/./b", "a/../b", "."])
def test_model_name_must_stay_inside_the_repository(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path, name: str
) -> None:
    argv = _args(source, repo)
    argv[argv.index("--model_name") + 1] = name
    _assert_refused(*_run(capsys, argv), "--model_name")
    assert not repo.exists()


def test_default_model_name_from_an_absolute_source_path_is_refused(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path
) -> None:
    argv = ["embeddings", "--source_model", str(source), "--model_repository_path", str(repo)]
    _assert_refused(*_run(capsys, argv), "pass --model_name")


@pytest.mark.parametrize("kind", ["embeddings", "tokenizer"])
def test_existing_version_without_overwrite(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path, kind: str
) -> None:
    existing = repo / "org" / "model" / kind / "1"
    existing.mkdir(parents=True)
    code, err = _run(capsys, _args(source, repo))
    _assert_refused(code, err, f"{kind}/1 already exists", "--overwrite_models")
    assert list(existing.iterdir()) == []


def test_existing_flat_directory_without_overwrite(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path
) -> None:
    graph_dir = repo / "org" / "model"
    graph_dir.mkdir(parents=True)
    (graph_dir / "graph.pbtxt").write_text("")
    code, err = _run(capsys, _args(source, repo, "--layout", "flat"))
    _assert_refused(code, err, "already exists", "--overwrite_models")


def test_versioned_export_over_a_flat_directory_without_overwrite(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path
) -> None:
    graph_dir = repo / "org" / "model"
    graph_dir.mkdir(parents=True)
    (graph_dir / "openvino_model.xml").write_text("")
    _assert_refused(*_run(capsys, _args(source, repo)), "flat-layout export", "--overwrite_models")


def test_repository_path_that_is_a_file(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    _assert_refused(*_run(capsys, _args(source, a_file)), "not a directory")
    _assert_refused(*_run(capsys, _args(source, a_file / "sub")), "not a directory")


def test_unwritable_repository(capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path) -> None:
    locked = _unwritable_dir(tmp_path)
    _assert_refused(*_run(capsys, _args(source, locked / "ws")), "cannot write to")


def test_unwritable_config_directory(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path
) -> None:
    locked = _unwritable_dir(tmp_path)
    argv = _args(source, tmp_path / "ws", "--config_file_path", str(locked / "cfg" / "config.json"))
    _assert_refused(*_run(capsys, argv), "cannot write to")
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{broken", "not valid JSON"),
        ("[]", "expected an object at the top level"),
        ('{"model_config_list": {}}', "model_config_list: expected a list"),
        ('{"model_config_list": [{"name": "x"}]}', "model_config_list[0].config: expected an object"),
        ('{"model_config_list": [], "mediapipe_config_list": [1]}', "mediapipe_config_list[0]"),
    ],
)
def test_malformed_config_file(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path, content: str, fragment: str
) -> None:
    repo.mkdir()
    (repo / "config.json").write_text(content)
    _assert_refused(*_run(capsys, _args(source, repo)), fragment)
    assert (repo / "config.json").read_text() == content
    assert sorted(path.name for path in repo.iterdir()) == ["config.json"]


def test_config_file_path_that_is_a_directory(
    capsys: pytest.CaptureFixture[str], source: Path, repo: Path
) -> None:
    (repo / "cfg").mkdir(parents=True)
    _assert_refused(
        *_run(capsys, _args(source, repo, "--config_file_path", str(repo / "cfg"))), "is a directory"
    )


def _unwritable_dir(tmp_path: Path) -> Path:
    """A directory in which no file can be created, or skip (root ignores permission bits)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    candidates = [locked, Path("/sys"), Path("/proc")]
    for candidate in candidates:
        try:
            with tempfile.TemporaryFile(dir=candidate):
                pass
        except OSError:
            return candidate
    pytest.skip("no unwritable directory available (running as root on writable mounts)")


def _dense_source(source: Path, activation: str) -> None:
    (source / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
            ]
        )
    )
    (source / "2_Dense").mkdir()
    config = {"in_features": 8, "out_features": 4, "bias": True, "activation_function": activation}
    (source / "2_Dense" / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("activation", "pooling", "fragments"),
    [
        (
            "torch.nn.modules.activation.Tanh",
            "MEAN",
            ["2_Dense: a Dense module with Tanh after MEAN pooling cannot be folded"],
        ),
        ("torch.nn.modules.activation.ReLU", "CLS", ["Dense activation torch.nn.modules.activation.ReLU"]),
    ],
)
def test_a_dense_module_that_cannot_be_folded_is_refused(
    capsys: pytest.CaptureFixture[str],
    source: Path,
    repo: Path,
    activation: str,
    pooling: str,
    fragments: list[str],
) -> None:
    _dense_source(source, activation)
    code, err = _run(capsys, _args(source, repo, "--pooling", pooling))
    _assert_refused(code, err, *fragments)
    assert not repo.exists()
