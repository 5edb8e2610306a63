"""Fixtures shared by the evalhub app tests."""

import json

import pytest

from tests.factories import ModelEntryFactory, PromptFactory, PromptSetFactory


@pytest.fixture
def import_file(tmp_path):
    """Params of an "import" job (3 outputs of model `m` for prompt set `jobs`): a small
    job that a real worker can run."""
    prompt_set = PromptSetFactory(slug="jobs")
    for i in range(3):
        PromptFactory(prompt_set=prompt_set, external_id=f"q{i}")
    ModelEntryFactory(slug="m")
    path = tmp_path / "outs.jsonl"
    path.write_text(
        "\n".join(json.dumps({"external_id": f"q{i}", "output": f"a{i}"}) for i in range(3))
    )
    return {"path": str(path), "prompt_set": "jobs", "model": "m"}
