"""Judge prompt templates: the text an LLM judge is sent, with named slots. LIMA's (shipped
verbatim under prompt_texts/, credited in prompt_texts/CREDITS.md), Fail / Pass / Excellent
from the paper's definitions, custom templates, and a study's own instrument in the judge's
form.

A `JudgePromptTemplate` knows its text, its slots, its scale and the choices a judge may
answer with; each choice carries its meaning ("A" / "B" / "tie", a label, or a Likert
score). What raters and judges are asked (the question, its choices and their meanings) is
an instrument (evalhub.instruments); a study's judge asks its instrument through
`study_prompt_template`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPT_TEXT_DIR = Path(__file__).resolve().parent / "prompt_texts"

PAIRWISE = "pairwise"
LABEL = "fail_pass_excellent"
LIKERT = "likert"

PAIRWISE_SLOTS = frozenset({"prompt", "response_a", "response_b"})
SINGLE_SLOTS = frozenset({"prompt", "response"})

# The three options of LIMA Figure 11, exactly as the human raters saw them.
PAIRWISE_CHOICES = {
    "Answer A is significantly better": "A",
    "Answer B is significantly better": "B",
    "Neither is significantly better": "tie",
}
LABEL_CHOICES = {"Fail": "fail", "Pass": "pass", "Excellent": "excellent"}
LIKERT_CHOICES = {str(n): str(n) for n in range(1, 7)}
DEFAULT_CHOICES = {PAIRWISE: PAIRWISE_CHOICES, LABEL: LABEL_CHOICES, LIKERT: LIKERT_CHOICES}

# Which study kinds each scale can judge.
STUDY_KIND_FOR_SCALE = {PAIRWISE: "pairwise", LABEL: "absolute", LIKERT: "likert"}

# Only in final-line mode: the paper's pairwise text names the options but not where to put
# the answer, so we say where. The Likert instrument already asks for a final line.
FINAL_LINE_SUFFIX = (
    "\n\nYou may explain your reasoning first. Then write your choice, copied exactly from the "
    "options above, alone on the last line of your reply."
)
JSON_SUFFIX = '\n\nReply with JSON only, in the form {"choice": "<one of the options above>"}.'

_SLOT = re.compile(r"\{([a-z_]+)\}")


class TemplateError(ValueError):
    """A template that cannot be used: unknown slots, missing slots, no choices."""


@dataclass(frozen=True)
class JudgePromptTemplate:
    """A judge template. `choices` maps the exact answer text to its meaning."""

    name: str
    text: str
    scale: str
    choices: dict[str, str]

    @property
    def slots(self) -> frozenset[str]:
        return frozenset(_SLOT.findall(self.text))

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def render(self, values: dict[str, str]) -> str:
        """Fill the named slots in one pass. Values are never re-scanned, so a response that
        contains "{response_b}" or braces stays literal text."""
        missing = self.slots - values.keys()
        if missing:
            raise TemplateError(f"template {self.name!r} needs values for {sorted(missing)}")
        return _SLOT.sub(lambda m: values[m.group(1)], self.text)


@cache
def _shipped_text(filename: str) -> str:
    return (PROMPT_TEXT_DIR / filename).read_text(encoding="utf-8").rstrip("\n")


def builtin_prompt_template(template: str) -> JudgePromptTemplate:
    """The shipped instrument for a `Judge.Template` value (not "custom")."""
    if template == "lima_pairwise":
        return JudgePromptTemplate(
            template, _shipped_text("lima_pairwise.txt"), PAIRWISE, PAIRWISE_CHOICES
        )
    if template == "lima_likert":
        text = _shipped_text("lima_likert_helpfulness.txt")
        return JudgePromptTemplate(template, text, LIKERT, LIKERT_CHOICES)
    if template == "fail_pass_excellent":
        text = _shipped_text("fail_pass_excellent.txt")
        return JudgePromptTemplate(template, text, LABEL, LABEL_CHOICES)
    raise TemplateError(f"unknown template {template!r}")


INSTRUMENT = "instrument"
# The judge scale of each instrument kind (evalhub.instruments.definitions.KINDS).
SCALE_FOR_INSTRUMENT_KIND = {"pairwise": PAIRWISE, "absolute": LABEL, "scale": LIKERT}
# An "instrument" judge before it is bound to a study: its registered version covers the
# model, mode and params; the study's instrument joins the version when it runs.
UNBOUND = JudgePromptTemplate(INSTRUMENT, "", INSTRUMENT, {"": ""})


def study_prompt_template(study: object) -> JudgePromptTemplate:
    """The judge's form of the instrument a launched study asks: the same question and
    choices (or the instrument's own judge template), each choice meaning a side shown, a
    label or a score."""
    from evalhub.studies.services import study_definition

    if getattr(study, "instrument_id", None) is None:
        raise TemplateError(f"study {study}: has no instrument yet; launch it first")
    definition = study_definition(study)
    config = getattr(study, "config", None) or {}
    frozen = config.get("instrument") or {}
    name = f"{frozen.get('slug', 'instrument')}@v{frozen.get('version', '?')}"
    return JudgePromptTemplate(
        name,
        definition.judge_text(),
        SCALE_FOR_INSTRUMENT_KIND[definition.kind],
        definition.judge_meanings(),
    )


def custom_prompt_template(
    text: str, *, scale: str | None, choices: dict[str, str] | None
) -> JudgePromptTemplate:
    """A custom template. Slots: {prompt} plus {response_a} and {response_b} (pairwise) or
    {response} (single). `choices` maps answer text to meaning; the scale's defaults apply
    when omitted."""
    if not text.strip():
        raise TemplateError("custom_template: empty; a custom judge needs its template text")
    slots = frozenset(_SLOT.findall(text))
    allowed = PAIRWISE_SLOTS | SINGLE_SLOTS
    unknown = slots - allowed
    if unknown:
        raise TemplateError(
            f"custom_template: unknown slots {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    if slots >= PAIRWISE_SLOTS and "response" not in slots:
        inferred = PAIRWISE
    elif slots >= SINGLE_SLOTS and not slots & {"response_a", "response_b"}:
        inferred = scale or LABEL
    else:
        raise TemplateError(
            "custom_template: needs {prompt} with {response_a} and {response_b} (pairwise), "
            f"or {{prompt}} with {{response}} (single); found {sorted(slots)}"
        )
    if scale and scale != inferred:
        raise TemplateError(f"params.scale: {scale!r} does not fit the slots {sorted(slots)}")
    if inferred not in DEFAULT_CHOICES:
        raise TemplateError(f"params.scale: unknown scale {inferred!r}")
    choices = dict(choices or DEFAULT_CHOICES[inferred])
    allowed_meanings = set(DEFAULT_CHOICES[inferred].values())
    for answer, meaning in choices.items():
        if meaning not in allowed_meanings or not answer.strip() or "\n" in answer:
            raise TemplateError(
                f"params.choices[{answer!r}]: meaning {meaning!r} must be one of "
                f"{sorted(allowed_meanings)}, and the answer one non-empty line"
            )
    return JudgePromptTemplate("custom", text, inferred, choices)
