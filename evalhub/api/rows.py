"""Row formats of the bulk bodies (prompts, outputs, judgments), one shape per accepted
format, declared with evalhub.api.row_shapes (which gives each its schema and its check)."""

from __future__ import annotations

from evalhub.api.row_shapes import BIGINT_MAX, NAMES_A_MODEL, NOT_BLANK, Prop, RowFormats, RowShape

# --- prompts ---------------------------------------------------------------------------

_PROMPT_EXTRA = {
    "category": Prop("string", max_length=100, description="e.g. advice, creative"),
    "source": Prop("string", max_length=100),
    "reference": Prop("string", description="a reference answer, if the source has one"),
}
PROMPT_ROWS = RowFormats(
    shapes=(
        RowShape(
            "PromptRowLima",
            "conversations",
            "LIMA's format: the last user turn is the prompt, earlier turns its context; "
            "an even number of turns keeps the last (assistant) turn as the reference.",
            {
                "conversations": Prop("strings", required=True, pattern=NOT_BLANK, min_items=1),
                "id": Prop(
                    "string",
                    max_length=200,
                    pattern=NOT_BLANK,
                    description="external id (default L<row>)",
                ),
                "category": _PROMPT_EXTRA["category"],
                "source": _PROMPT_EXTRA["source"],
            },
        ),
        RowShape(
            "PromptRowPlain",
            "text",
            "Ours: the prompt's text and its external id, unique in the set.",
            {
                "id": Prop(
                    "string",
                    required=True,
                    max_length=200,
                    pattern=NOT_BLANK,
                    description="external id, unique in the set",
                ),
                "text": Prop("string", required=True, pattern=NOT_BLANK),
                "context": Prop("turns", description="earlier turns of a dialogue"),
                **_PROMPT_EXTRA,
            },
            also_keys=("id", "context", "reference"),
        ),
    ),
    what="give `text` (ours) or `conversations` (LIMA's format)",
    what_field="text",
)

# --- outputs ---------------------------------------------------------------------------

_OUTPUT_COMMON = {
    "output": Prop("string", required=True, description="the output text"),
    "model": Prop(
        "string",
        max_length=200,
        pattern=NAMES_A_MODEL,
        description="model slug (default: ?model=); made a slug",
    ),
    "sample_index": Prop("integer", minimum=0, maximum=999),
    "provenance": Prop("object", description="sampling parameters, engine, seed, tokens"),
    "turns": Prop("strings", description="the assistant turns of a dialogue output"),
}
OUTPUT_ROWS = RowFormats(
    shapes=(
        RowShape(
            "OutputRowByPromptId",
            "prompt_id",
            "An output for the prompt with this `id` (see the set's prompts).",
            {
                "prompt_id": Prop("integer", required=True, minimum=1, maximum=BIGINT_MAX),
                **_OUTPUT_COMMON,
            },
        ),
        RowShape(
            "OutputRowByExternalId",
            "external_id",
            "An output for the prompt with this external id.",
            {
                "external_id": Prop("string", required=True, min_length=1, max_length=200),
                **_OUTPUT_COMMON,
            },
        ),
        RowShape(
            "OutputRowAlpacaEval",
            "instruction",
            "AlpacaEval's model_outputs.json row: the prompt by its exact text.",
            {
                "instruction": Prop("string", required=True, min_length=1),
                "output": Prop("string", required=True),
                "generator": Prop(
                    "string",
                    max_length=200,
                    pattern=NAMES_A_MODEL,
                    description="the model (default: ?model=); made a slug",
                ),
                "dataset": Prop("any", description="ignored"),
                "datasplit": Prop("any", description="ignored"),
            },
        ),
    ),
    what="name the prompt by prompt_id, external_id or instruction",
    what_field="prompt",
)

# --- judgments -------------------------------------------------------------------------

_VERDICTS = ("target", "baseline", "tie", "fail", "pass", "excellent")
_LABELS = ("fail", "pass", "excellent")
_JUDGMENT_COMMON = {
    "verdict": Prop(
        "string",
        enum=_VERDICTS,
        description="target | baseline | tie (pairwise); fail | pass | excellent",
    ),
    "label": Prop("string", enum=_LABELS, description="absolute and dialogue studies"),
    "score": Prop("number", minimum=1, maximum=6, description="Likert studies"),
    "order": Prop("string", enum=("target_first", "baseline_first", "single")),
    "turn_labels": Prop("strings", enum=_LABELS, description="dialogue studies, per turn"),
    "comment": Prop("string"),
    "time_on_task_ms": Prop("integer", minimum=0, maximum=2**31 - 1),
    "raw_choice": Prop("string", description="kept up to 100 characters"),
}
_BY_PROMPT = {
    "baseline": Prop(
        "string",
        max_length=200,
        pattern=NAMES_A_MODEL,
        description="pairwise: the baseline of the item",
    ),
    "model": Prop(
        "string",
        max_length=200,
        pattern=NAMES_A_MODEL,
        description="single-output studies: the model judged (default the target)",
    ),
}
JUDGMENT_ROWS = RowFormats(
    shapes=(
        RowShape(
            "JudgmentRowAlpacaEval",
            "generator_1",
            "AlpacaEval's annotations.json row. One generator is the study's target, the "
            "other a baseline; `preference` 1 or 2 names the better output, 0 or 1.5 is a "
            "tie, and a weighted preference between 1 and 2 counts for the nearer side.",
            {
                "instruction": Prop("string", required=True, min_length=1),
                "generator_1": Prop("string", required=True, max_length=200, pattern=NAMES_A_MODEL),
                "generator_2": Prop("string", required=True, max_length=200, pattern=NAMES_A_MODEL),
                "preference": Prop(
                    "number",
                    required=True,
                    minimum=0,
                    maximum=2,
                    description="1 or 2, 0 or 1.5 = tie; (0, 1) is refused",
                ),
                **{
                    name: Prop("any", description="ignored")
                    for name in (
                        "output_1",
                        "output_2",
                        "annotator",
                        "dataset",
                        "datasplit",
                        "raw_completion",
                        "price_per_example",
                        "time_per_example",
                    )
                },
            },
            also_keys=("preference", "generator_2"),
        ),
        RowShape(
            "JudgmentRowByItem",
            "item_id",
            "A judgment of the study's item with this id.",
            {
                "item_id": Prop("integer", required=True, minimum=1, maximum=BIGINT_MAX),
                **_JUDGMENT_COMMON,
            },
        ),
        RowShape(
            "JudgmentRowByPromptId",
            "prompt_id",
            "A judgment of the item for this prompt (and `baseline` or `model`).",
            {
                "prompt_id": Prop("integer", required=True, minimum=1, maximum=BIGINT_MAX),
                **_BY_PROMPT,
                **_JUDGMENT_COMMON,
            },
        ),
        RowShape(
            "JudgmentRowByExternalId",
            "external_id",
            "A judgment of the item for this prompt (and `baseline` or `model`).",
            {
                "external_id": Prop("string", required=True, min_length=1, max_length=200),
                **_BY_PROMPT,
                **_JUDGMENT_COMMON,
            },
        ),
        RowShape(
            "JudgmentRowByInstruction",
            "instruction",
            "A judgment of the item for the prompt with this exact text.",
            {
                "instruction": Prop("string", required=True, min_length=1),
                **_BY_PROMPT,
                **_JUDGMENT_COMMON,
            },
        ),
    ),
    what="name the item by item_id, or the prompt by prompt_id, external_id or instruction",
    what_field="item_id",
)
