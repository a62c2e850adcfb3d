"""The names `doctor` knows as settings (setting_names.py) are the OCP_* names the code reads:
one missing there would be reported as a misspelling of another."""

from __future__ import annotations

from ocp_server.setting_names import SETTING_NAMES, misspelt_settings
from tests.test_readme_settings import _named_in_code


def test_the_setting_names_are_the_names_the_code_reads() -> None:
    assert sorted(SETTING_NAMES) == sorted(_named_in_code())


def test_a_misspelt_setting_is_taken_for_the_one_it_looks_like() -> None:
    env = {
        "OCP_LOCAL_MODLE": "qwen3",  # swapped letters
        "OCP_OLAMA_URL": "http://x",  # a letter missing
        "OCP_local_model": "qwen3",  # another case: names are case-sensitive
        "OCP_LOCAL_MODEL": "llama3.2",  # a real one
        "OCP_VERSION": "4.14",  # OpenShift's, like no setting of OCP's
        "PATH": "/usr/bin",
    }
    assert misspelt_settings(env) == {
        "OCP_LOCAL_MODLE": "OCP_LOCAL_MODEL",
        "OCP_OLAMA_URL": "OCP_OLLAMA_URL",
        "OCP_local_model": "OCP_LOCAL_MODEL",
    }
