"""Decoding settings: LIMA defaults, layered overrides, errors that name the field, seeds."""

import pytest

from generation.sampling import (
    LIMA_DEFAULTS,
    Sampling,
    SamplingError,
    chat_template_sha256,
    sample_seed,
    sampling_from,
)


def test_the_defaults_are_limas_decoding():
    sampling = sampling_from()
    assert (sampling.top_p, sampling.temperature) == (0.9, 0.7)
    assert (sampling.repetition_penalty, sampling.max_tokens) == (1.2, 2048)
    assert sampling.as_dict() == {**LIMA_DEFAULTS, "stop": []}


def test_later_layers_win_and_unset_fields_keep_the_defaults():
    sampling = sampling_from(
        ("model", {"temperature": 0.2, "max_tokens": 512}),
        ("overrides", {"max_tokens": 16, "stop": "###"}),
    )
    assert sampling == Sampling(temperature=0.2, max_tokens=16, stop=("###",))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"top_k": 40}, "overrides: unknown decoding setting 'top_k'"),
        ({"top_p": 1.5}, "overrides: 'top_p' must be between 0.0 and 1.0, not 1.5"),
        ({"max_tokens": 12.5}, "overrides: 'max_tokens' must be a whole number"),
        ({"temperature": "hot"}, "overrides: 'temperature' must be a number"),
        ({"seed": True}, "overrides: 'seed' must be a number"),
        ({"stop": [1]}, "overrides: 'stop' must be a string or a list of strings"),
    ],
)
def test_a_bad_setting_is_refused_with_its_source_and_field(settings, message):
    with pytest.raises(SamplingError) as error:
        sampling_from(("overrides", settings))
    assert str(error.value).startswith(message)


def test_a_layer_that_is_not_an_object_is_refused():
    with pytest.raises(SamplingError, match="model m generation_config: must be an object"):
        sampling_from(("model m generation_config", [0.7]))


def test_each_sample_gets_its_own_stable_seed():
    seeds = {sample_seed(0, f"set/p{p}", s) for p in range(50) for s in range(5)}
    assert len(seeds) == 250
    assert sample_seed(0, "set/p1", 2) == sample_seed(0, "set/p1", 2)
    assert sample_seed(1, "set/p1", 2) != sample_seed(0, "set/p1", 2)
    assert all(0 <= seed < 2**31 for seed in seeds)


def test_the_chat_template_hash_is_sha256_hex():
    assert chat_template_sha256("x") == (
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )
    assert chat_template_sha256(None) == ""
