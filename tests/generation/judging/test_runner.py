"""The request body a judge sends: the verdict mode's structured output plus its own extras."""

import pytest

from evalhub.studies.models import Judge
from generation.judging.config import judge_config_from_fields
from generation.judging.runner import request_body

WHITESPACE_OFF = {"structured_outputs": {"disable_any_whitespace": True}}


def config(verdict_mode: str, **params):
    return judge_config_from_fields(
        model="m", base_url="http://127.0.0.1:1/v1", api_key_env="",
        template=Judge.Template.LIMA_PAIRWISE, custom_template="", params=params,
        verdict_mode=verdict_mode,
    )  # fmt: skip


def test_extra_body_adds_to_guided_choice_without_replacing_the_choices():
    body = request_body(config(Judge.VerdictMode.GUIDED_CHOICE, extra_body=WHITESPACE_OFF))
    outputs = body["extra_body"]["structured_outputs"]
    assert outputs["disable_any_whitespace"] is True
    assert outputs["choice"] == [
        "Answer A is significantly better",
        "Answer B is significantly better",
        "Neither is significantly better",
    ]


def test_extra_body_rides_along_with_a_json_schema_response_format():
    body = request_body(
        config(Judge.VerdictMode.JSON_SCHEMA, extra_body={**WHITESPACE_OFF, "top_k": 1})
    )
    assert body["response_format"]["type"] == "json_schema"
    assert body["extra_body"] == {**WHITESPACE_OFF, "top_k": 1}


def test_without_extra_body_the_mode_alone_decides():
    assert "extra_body" not in request_body(config(Judge.VerdictMode.JSON_SCHEMA))


@pytest.mark.parametrize("extra", [WHITESPACE_OFF, {"top_k": 1}])
def test_extra_body_changes_the_version(extra):
    plain = config(Judge.VerdictMode.JSON_SCHEMA)
    assert (
        config(Judge.VerdictMode.JSON_SCHEMA, extra_body=extra).version_hash != plain.version_hash
    )
