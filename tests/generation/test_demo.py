"""The demo's generation step: the tiny model registered, one job queued, plain words."""

import shutil

import pytest

from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry
from generation.demo import MODEL_PATH_ENV, demo_generation_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path, tiny_model_dir):
    shutil.copytree(tiny_model_dir, tmp_path / "tiny-model")  # no rebuild in the test
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_it_queues_the_tiny_model_once_and_says_it_writes_gibberish(
    var_dir, make_prompt_set, monkeypatch
):
    monkeypatch.delenv(MODEL_PATH_ENV, raising=False)
    prompt_set = make_prompt_set("demo-gen", 3)
    first = demo_generation_start(prompt_set=prompt_set, base_url="http://127.0.0.1:8000")
    assert first.model.slug == "tiny-lima"
    assert first.model.kind == ModelEntry.Kind.LOCAL
    assert first.model.model_path == str(var_dir / "tiny-model")
    assert first.job.params == {
        "model": "tiny-lima", "prompt_set": "demo-gen", "samples": 1, "overrides": {},
    }  # fmt: skip
    text = "\n".join(first.lines)
    assert f"http://127.0.0.1:8000/jobs/{first.job.pk}/" in text
    assert "gibberish" in text and f"{MODEL_PATH_ENV}=/path/to/weights make demo" in text

    again = demo_generation_start(prompt_set=prompt_set, base_url="http://127.0.0.1:8000")
    assert again.job == first.job
    assert Job.objects.count() == 1


def test_real_weights_come_from_the_environment(var_dir, make_prompt_set, monkeypatch):
    monkeypatch.setenv(MODEL_PATH_ENV, "/models/lima-7b")
    demo = demo_generation_start(prompt_set=make_prompt_set("demo-real", 1), base_url="http://x")
    assert (demo.model.slug, demo.model.model_path) == ("demo-local-lima-7b", "/models/lima-7b")
    assert demo.model.generation_config == {}  # LIMA's decoding, untouched
    assert "gibberish" not in "\n".join(demo.lines)
