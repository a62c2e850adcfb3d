"""One local model, spelled two ways, is one calibration: Ollama's default tag (`llama3.2` is
`llama3.2:latest`), the name's case (Ollama looks names up ignoring it), the server's native
API or its OpenAI-compatible `/v1`, and the endpoint URL as typed (case, default port,
trailing slash)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocp_router import OCPRouter, OllamaBackend
from ocp_router.calibration import Outcome
from ocp_router.calibration_file import FORMAT, CalibrationFile, Calibrations
from ocp_router.config import RouterSettings, build_local, local_calibration_key

OLLAMA = "http://localhost:11434"


def _taught(path: Path, model: str) -> CalibrationFile:
    store = CalibrationFile(path)
    for i in range(6):  # local answers judged wrong: the debug threshold comes down
        store.learn("debug", 0.4, False, Outcome.BAD, trace_id=f"r{i}", model=model)
    return store


@pytest.mark.parametrize(
    ("taught", "asked"),
    [
        (f"llama3.2 @ {OLLAMA}", f"llama3.2:latest @ {OLLAMA}"),
        (f"llama3.2:latest @ {OLLAMA}", f"llama3.2 @ {OLLAMA}"),
        (f"llama3.2 @ {OLLAMA}", f"llama3.2 @ {OLLAMA}/"),
        (f"llama3.2 @ {OLLAMA}", "llama3.2 @ HTTP://LocalHost:11434/"),
        ("qwen3 @ http://gpu-box/v1/", "qwen3 @ http://gpu-box:80/v1"),
        (f"Llama3:8B @ {OLLAMA}", f"llama3:8b @ {OLLAMA}"),  # Ollama ignores the case
        (f"llama3.2 @ {OLLAMA}", f"llama3.2 @ {OLLAMA}/v1"),  # its OpenAI-compatible layer
        (f"llama3.2 @ {OLLAMA}/v1/", f"LLAMA3.2:latest @ {OLLAMA}"),
    ],
)
def test_two_spellings_of_one_model_and_server_share_a_calibration(
    tmp_path: Path, taught: str, asked: str
) -> None:
    store = _taught(tmp_path / "cal.json", taught)
    learned = store.current(taught)
    assert learned is not None and learned.shift("debug") < 0
    assert store.current(asked) is learned


@pytest.mark.parametrize(
    ("taught", "asked"),
    [
        (f"llama3.2 @ {OLLAMA}", "llama3.2 @ http://127.0.0.1:11434"),  # maybe not one server
        (f"llama3.2 @ {OLLAMA}", f"llama3.2:1b @ {OLLAMA}"),  # another tag, another model
        (f"llama3.2 @ {OLLAMA}", f"llama3.2 @ {OLLAMA}/v2"),  # another path, maybe a proxy
        ("m @ http://gpu-box:8000/v1", "m @ http://gpu-box:8001/v1"),
    ],
)
def test_other_models_or_servers_keep_their_own(tmp_path: Path, taught: str, asked: str) -> None:
    store = _taught(tmp_path / "cal.json", taught)
    assert store.current(asked) is None


def test_keys_stored_in_old_spellings_are_read_as_one_model_and_written_back_as_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cal.json"
    one = _taught(tmp_path / "one.json", "x").current("x")
    assert one is not None
    part = one.to_json()
    routes = {t: {f"other-{r}": p for r, p in rs.items()} for t, rs in part["routes"].items()}
    other = {**part, "routes": routes}  # the same points, taught by other routes
    # two windows on the old code filed the same model under two keys
    path.write_text(
        json.dumps(
            {
                "format": FORMAT,
                "base_threshold": 0.5,
                "models": {f"llama3.2 @ {OLLAMA}/": part, f"llama3.2:latest @ {OLLAMA}": other},
            }
        )
    )
    cals = Calibrations.load(path)
    assert list(cals.models) == [f"llama3.2 @ {OLLAMA}"]
    merged = cals.models[f"llama3.2 @ {OLLAMA}"]
    assert merged.outcomes("debug") == 2 * one.outcomes("debug")
    assert len(merged.taught) == 2 * len(one.taught)  # each route can still be taken back
    store = CalibrationFile(path)
    store.learn("debug", 0.4, False, Outcome.BAD, trace_id="new", model=f"llama3.2 @ {OLLAMA}")
    assert list(json.loads(path.read_text())["models"]) == [f"llama3.2 @ {OLLAMA}"]


def test_one_route_found_under_both_old_keys_counts_once(tmp_path: Path) -> None:
    one = _taught(tmp_path / "one.json", "x").current("x")
    assert one is not None
    path = tmp_path / "cal.json"
    keys = (f"llama3.2 @ {OLLAMA}", f"llama3.2:latest @ {OLLAMA}")
    raw = {"format": FORMAT, "models": {key: one.to_json() for key in keys}}
    path.write_text(json.dumps(raw))
    merged = Calibrations.load(path).models[keys[0]]
    assert merged.outcomes("debug") == one.outcomes("debug")


def test_a_password_in_the_endpoint_is_not_part_of_the_key(tmp_path: Path) -> None:
    store = _taught(tmp_path / "cal.json", "m @ https://me:s3cret-pw@ollama.example:443/")
    assert "s3cret" not in (tmp_path / "cal.json").read_text()
    assert store.current("m @ https://ollama.example") is not None


def test_the_router_files_both_spellings_of_the_local_model_under_one_key() -> None:
    keys = {
        OCPRouter(local=OllamaBackend(model, base_url=url), paid=None).calibration_key
        for model, url in [
            ("llama3.2", OLLAMA),
            ("llama3.2:latest", OLLAMA + "/"),
            ("llama3.2", "http://LOCALHOST:11434"),
        ]
    }
    assert keys == {f"llama3.2 @ {OLLAMA}"}


def test_the_router_files_ollamas_native_api_and_its_v1_under_one_key() -> None:
    native = RouterSettings.model_validate(
        {"OCP_LOCAL_MODEL": "Llama3:8B", "OCP_OLLAMA_URL": OLLAMA}
    )
    compatible = RouterSettings.model_validate(
        {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_MODEL": "llama3:8b",
            "OCP_LOCAL_BASE_URL": f"{OLLAMA}/v1",
        }
    )
    keys = {
        OCPRouter(local=build_local(settings), paid=None).calibration_key
        for settings in (native, compatible)
    } | {local_calibration_key(native), local_calibration_key(compatible)}
    assert keys == {f"llama3:8b @ {OLLAMA}"}


def test_a_registry_port_is_no_tag_and_other_tags_stay() -> None:
    from ocp_router.calibration_keys import name_key

    assert name_key("registry.local:5000/team/coder") == "registry.local:5000/team/coder"
    assert name_key("registry.local:5000/team/coder:latest") == "registry.local:5000/team/coder"
    assert name_key("qwen2.5-coder:7b") == "qwen2.5-coder:7b"


@pytest.mark.parametrize(
    "env",
    [
        {"OCP_LOCAL_MODEL": "llama3.2:latest", "OCP_OLLAMA_URL": "http://LOCALHOST:11434/"},
        {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_MODEL": "qwen3",
            "OCP_LOCAL_BASE_URL": "http://me:pw@127.0.0.1:8080/v1/",
        },
    ],
)
def test_the_settings_key_is_the_one_the_router_built_from_them_files_under(
    env: dict[str, str],
) -> None:
    # `routing explain` marks the model in use from the settings, without building it
    settings = RouterSettings.model_validate(env)
    router = OCPRouter(local=build_local(settings), paid=None)
    assert local_calibration_key(settings) == router.calibration_key
