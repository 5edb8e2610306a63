"""Today's LIMA studies keep byte-identical rater pages now that instruments are data: the
golden copies in golden/ were rendered by the code before instruments were rows (pairwise,
Fail / Pass / Excellent, dialogue; the pre-rendered skeletons and the full template)."""

from pathlib import Path

import pytest
from django.template.loader import get_template

from evalhub.instruments.services import instrument_for_study_kind
from evalhub.rating import views
from evalhub.rating.selectors import RatingView

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
TURNS = [
    {"user_html": "<p>Hi</p>", "assistant_html": "<p>Hello</p>"},
    {"user_html": "<p>More?</p>", "assistant_html": "<p>Sure</p>"},
]
CONTEXT = [
    {"role": "user", "html": "<p>Earlier</p>"},
    {"role": "assistant", "html": "<p>Reply</p>"},
]


def _preset(kind: str) -> tuple[int, str]:
    instrument = instrument_for_study_kind(kind)
    return instrument.pk, instrument.content_hash


@pytest.mark.parametrize("kind", ["pairwise", "absolute"])
def test_the_form_skeleton_is_byte_identical(kind):
    skeleton = views._form_skeleton(kind, *_preset(kind))
    assert "\x01".join(skeleton) == (GOLDEN / f"form_{kind}.html").read_text()


@pytest.mark.parametrize("kind", ["pairwise", "absolute", "dialogue"])
def test_the_consent_page_is_byte_identical(kind):
    skeleton = views._consent_skeleton(kind, 20, 15, *_preset(kind))
    assert "\x01".join(skeleton) == (GOLDEN / f"consent_{kind}.html").read_text()


@pytest.mark.parametrize(
    "name, kind, side, context, turns",
    [
        ("dialogue", "dialogue", "A", [], TURNS),
        ("pairwise_context", "pairwise", "B", CONTEXT, []),
        ("absolute_context", "absolute", "A", CONTEXT, []),
    ],
)
def test_the_full_form_is_byte_identical(name, kind, side, context, turns):
    prompt, target, baseline = ("", "", "") if turns else ("<p>Q</p>", "<p>T</p>", "<p>B</p>")
    if kind == "absolute":
        baseline = ""
    view = RatingView(1, "active", None, 2, 10, "TOK", "launched", kind, "reserved", None, side,
                      context, prompt, target, baseline, turns, *_preset(kind))  # fmt: skip
    page = get_template("rating/form.html").render(
        {**views._form_context(view, "/s/x/rate/"), "csrf_token": "CSRF"}
    )
    assert page == (GOLDEN / f"full_{name}.html").read_text()
