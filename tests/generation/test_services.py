"""Queueing generation runs and saving generated chunks (no engine needed here)."""

import pytest

from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry, Output
from generation.engines import Completion
from generation.sampling import SamplingError
from generation.selectors import samples_missing
from generation.services import generated_outputs_save, generation_run_create
from tests.factories import ModelEntryFactory, OutputFactory

pytestmark = pytest.mark.django_db


def completion(prompt_id: int, sample: int, text: str = "Answer **bold**") -> Completion:
    return Completion(
        key=(prompt_id, sample), text=text, prompt_tokens=12, completion_tokens=3,
        finish_reason="stop", seed=99, provenance={"stop_reason": 4},
    )  # fmt: skip


def test_a_run_is_queued_as_a_generation_job_with_its_params(tiny_lima, make_prompt_set, alice):
    prompt_set = make_prompt_set("svc", 2)
    job = generation_run_create(
        model=tiny_lima, prompt_set=prompt_set, samples=5, overrides={"top_p": 0.95},
        requested_by=alice,
    )  # fmt: skip
    assert (job.kind, job.queue, job.status) == ("generation", "generation", "queued")
    assert job.params == {
        "model": "tiny-lima", "prompt_set": "svc", "samples": 5, "overrides": {"top_p": 0.95},
    }  # fmt: skip
    assert job.requested_by == alice


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": 0}, "samples must be between 1 and 100, not 0"),
        ({"samples": "3"}, "samples must be a whole number"),
        ({"overrides": {"temperature": -1}}, "overrides: 'temperature' must be between"),
        ({"overrides": {"beam": 4}}, "overrides: unknown decoding setting 'beam'"),
    ],
)
def test_bad_input_is_refused_before_anything_is_queued(
    tiny_lima, make_prompt_set, kwargs, message
):
    prompt_set = make_prompt_set("svc-bad", 1)
    with pytest.raises(ValueError, match=message):
        generation_run_create(model=tiny_lima, prompt_set=prompt_set, **kwargs)
    assert not Job.objects.exists()


def test_a_bad_model_generation_config_is_named(make_prompt_set):
    model = ModelEntryFactory(
        slug="badcfg", kind=ModelEntry.Kind.LOCAL, generation_config={"top_p": 2}
    )
    with pytest.raises(SamplingError, match="model 'badcfg' generation_config: 'top_p'"):
        generation_run_create(model=model, prompt_set=make_prompt_set("svc-cfg", 1))


def test_external_models_are_not_generated(make_prompt_set):
    model = ModelEntryFactory(slug="ext", kind=ModelEntry.Kind.EXTERNAL)
    with pytest.raises(ValueError, match="'ext' is external"):
        generation_run_create(model=model, prompt_set=make_prompt_set("svc-ext", 1))


def test_only_missing_samples_are_listed_in_prompt_order(tiny_lima, make_prompt_set):
    prompt_set = make_prompt_set("svc-missing", 3)
    p0, p1, p2 = prompt_set.prompts.order_by("position")
    OutputFactory(prompt=p1, model=tiny_lima, sample_index=0)
    OutputFactory(prompt=p0, model=tiny_lima, sample_index=1)
    OutputFactory(prompt=p2, model=ModelEntryFactory(), sample_index=0)  # another model's
    missing = samples_missing(model=tiny_lima, prompt_set=prompt_set, samples=2)
    assert [(p.external_id, s) for p, s in missing] == [
        ("q0", 0), ("q1", 1), ("q2", 0), ("q2", 1),
    ]  # fmt: skip


def test_a_saved_chunk_carries_provenance_and_never_duplicates(tiny_lima, make_prompt_set):
    prompt_set = make_prompt_set("svc-save", 2)
    p0, p1 = prompt_set.prompts.order_by("position")
    shared = {"engine": "vllm", "sampling": {"top_p": 0.9}}
    created = generated_outputs_save(
        model=tiny_lima, completions=[completion(p0.pk, 0), completion(p1.pk, 0)],
        provenance=shared,
    )  # fmt: skip
    assert created == 2
    output = Output.objects.get(prompt=p0, model=tiny_lima)
    assert output.text == "Answer **bold**"
    assert output.provenance | {"generated_at": "-"} == {
        "engine": "vllm", "sampling": {"top_p": 0.9}, "stop_reason": 4, "seed": 99,
        "prompt_tokens": 12, "completion_tokens": 3, "finish_reason": "stop",
        "generated_at": "-",
    }  # fmt: skip
    # The same chunk again (a redelivered job racing): nothing new, nothing overwritten.
    again = generated_outputs_save(
        model=tiny_lima, completions=[completion(p0.pk, 0, "other"), completion(p1.pk, 1)],
        provenance=shared,
    )  # fmt: skip
    assert again == 1
    assert Output.objects.get(prompt=p0, model=tiny_lima, sample_index=0).text == "Answer **bold**"
    assert Output.objects.filter(model=tiny_lima).count() == 3


def test_nul_bytes_a_byte_level_model_wrote_are_dropped_and_counted(tiny_lima, make_prompt_set):
    prompt = make_prompt_set("svc-nul", 1).prompts.get()
    generated_outputs_save(
        model=tiny_lima, completions=[completion(prompt.pk, 0, "a\x00b\x00")], provenance={}
    )
    output = Output.objects.get(prompt=prompt, model=tiny_lima)
    assert output.text == "ab"
    assert output.provenance["nul_bytes_removed"] == 2
