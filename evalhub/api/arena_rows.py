"""The row shapes of /api/v1/arena-battles/ (Chatbot Arena's two published formats).

Shape problems are a 400 here; what the shape cannot say (model_a equal to model_b, a
repeated question id, a conversation without an assistant turn, bad conv_metadata counts)
is checked by evalhub.studies.arena_rows and is a 409. Both name the line and field."""

from __future__ import annotations

from evalhub.api.row_shapes import NAMES_A_MODEL, NOT_BLANK, Prop, RowFormats, RowShape
from evalhub.studies.arena_rows import WINNERS

_MODELS = {
    "model_a": Prop("string", required=True, max_length=100, pattern=NAMES_A_MODEL),
    "model_b": Prop("string", required=True, max_length=100, pattern=NAMES_A_MODEL),
}
# Fields of the published files that the import keeps out of the way.
_IGNORED = ("openai_moderation", "toxic_chat_tag", "dedup_tag", "category_tag", "is_code")

ARENA_ROWS = RowFormats(
    shapes=(
        RowShape(
            "ArenaConversationRow",
            "conversation_a",
            "A chatbot_arena_conversations battle. winner: model_a, model_b, tie or "
            "tie (bothbad); conv_metadata (FastChat's style counts) is used as given.",
            {
                "question_id": Prop("string", required=True, max_length=200, pattern=NOT_BLANK),
                **_MODELS,
                "winner": Prop("string", required=True, enum=WINNERS),
                "judge": Prop("string", description="the rater's Arena id (stored hashed)"),
                "conversation_a": Prop("turns", required=True),
                "conversation_b": Prop("turns", required=True),
                "turn": Prop("any", description="kept in the outputs' provenance"),
                "anony": Prop("any", description="kept in the outputs' provenance"),
                "language": Prop("any", description="kept in the outputs' provenance"),
                "tstamp": Prop("any", description="kept in the outputs' provenance"),
                "conv_metadata": Prop("object", description="FastChat's style counts"),
                **{name: Prop("any", description="ignored") for name in _IGNORED},
            },
            also_keys=("winner", "question_id"),
        ),
        RowShape(
            "ArenaHumanPreferenceRow",
            "winner_model_a",
            "An arena-human-preference battle: prompt, response_a and response_b are JSON "
            "lists of turn texts (or strings holding one); exactly one winner flag is 1.",
            {
                "id": Prop("any", required=True, description="the battle's id (int or string)"),
                **_MODELS,
                "prompt": Prop("any", required=True, description="a JSON list of user turns"),
                "response_a": Prop("any", required=True, description="model_a's turns"),
                "response_b": Prop("any", required=True, description="model_b's turns"),
                **{
                    name: Prop("integer", required=True, minimum=0, maximum=1)
                    for name in ("winner_model_a", "winner_model_b", "winner_tie")
                },
            },
            also_keys=("response_a", "winner_model_b", "winner_tie"),
        ),
    ),
    what="is neither an Arena conversation (conversation_a) nor an arena-human-preference "
    "row (winner_model_a)",
    what_field="conversation_a",
)
