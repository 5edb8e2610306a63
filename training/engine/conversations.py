"""LIMA rows to token ids and labels, with the end-of-turn token after every utterance.

A LIMA row is a list of utterances that alternate user, assistant, user, ... (the paper has
no role markers: the EOT token separates the turns). One conversation becomes

    [bos] u1 EOT a1 EOT u2 EOT a2 EOT ...

and the checkpoint ships `lima_chat_template(eot)`, which renders the same text, so vLLM
sees at inference exactly the layout the model was trained on. Each utterance is encoded on
its own: the EOT is a special token, so encoding the rendered text gives the same ids."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

IGNORE_INDEX = -100


@dataclass(frozen=True)
class EncodedConversation:
    """Token ids and labels of one conversation, the same length, trimmed to max_length.
    labels[t] is input_ids[t] where the token is trained on and IGNORE_INDEX elsewhere
    (not yet shifted: the batcher shifts within each example)."""

    input_ids: list[int]
    labels: list[int]
    full_length: int  # tokens before trimming

    @property
    def trimmed(self) -> bool:
        return self.full_length > len(self.input_ids)

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def lima_chat_template(eot_token: str) -> str:
    """A chat template rendering messages the LIMA way: each content followed by EOT.
    System messages are dropped (LIMA has none); the generation prompt adds nothing, since
    the assistant's turn starts right after the user's EOT."""
    eot = eot_token.replace("'", "\\'")
    return (
        "{{ bos_token if bos_token else '' }}"
        "{% for message in messages %}{% if message['role'] != 'system' %}"
        "{{ message['content'] + '" + eot + "' }}"
        "{% endif %}{% endfor %}"
    )


def tokenizer_add_eot(tokenizer: Any, eot_token: str) -> tuple[int, bool]:
    """Make `eot_token` a special token of `tokenizer`, adding it if missing.

    Returns (its id, whether it was added). The caller must then resize the model's
    embeddings to len(tokenizer). Refuses an EOT that is the pad or the EOS token: padding
    would hide it from the loss, and LIMA's EOT is a new token, not the pre-trained EOS."""
    if eot_token in {tokenizer.pad_token, tokenizer.eos_token}:
        raise ValueError(
            f"eot_token {eot_token!r} is this tokenizer's pad or EOS token; "
            "choose a new token (e.g. '<|eot|>')"
        )
    added = False
    if eot_token not in tokenizer.get_vocab():
        tokenizer.add_tokens([eot_token], special_tokens=True)
        added = True
    eot_id = tokenizer.convert_tokens_to_ids(eot_token)
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id == eot_id:
        raise ValueError(f"eot_token {eot_token!r} has the pad token's id {eot_id}")
    return eot_id, added


def encode_conversation(
    utterances: Sequence[str],
    tokenizer: Any,
    *,
    eot_id: int,
    max_length: int,
    assistant_only: bool = True,
) -> EncodedConversation:
    """Encode alternating utterances (user first). With `assistant_only`, labels cover the
    assistant utterances and their EOT only; otherwise every token but the BOS."""
    input_ids: list[int] = []
    labels: list[int] = []
    if tokenizer.bos_token_id is not None:
        input_ids.append(tokenizer.bos_token_id)
        labels.append(IGNORE_INDEX)  # nothing predicts the first token
    for index, text in enumerate(utterances):
        ids = [*tokenizer.encode(text, add_special_tokens=False), eot_id]
        trained = index % 2 == 1 or not assistant_only
        input_ids.extend(ids)
        labels.extend(ids if trained else [IGNORE_INDEX] * len(ids))
    return EncodedConversation(input_ids[:max_length], labels[:max_length], len(input_ids))


@dataclass(frozen=True)
class SourceLengths:
    source: str
    count: int
    mean_tokens: float
    median_tokens: float
    max_tokens: int
    trimmed: int  # rows longer than max_length


def token_length_stats(
    rows: Sequence[tuple[str, Sequence[str]]], tokenizer: Any, *, eot_id: int, max_length: int
) -> list[SourceLengths]:
    """Token lengths per source (and "all" last) of (source, utterances) rows."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for source, utterances in rows:
        encoded = encode_conversation(utterances, tokenizer, eot_id=eot_id, max_length=max_length)
        by_source[source or "(none)"].append(encoded.full_length)
    by_source_sorted = sorted(by_source.items())
    everything = [n for _, lengths in by_source_sorted for n in lengths]
    out = []
    for source, lengths in [*by_source_sorted, ("all", everything)]:
        if not lengths:
            continue
        out.append(
            SourceLengths(
                source=source,
                count=len(lengths),
                mean_tokens=round(statistics.fmean(lengths), 1),
                median_tokens=float(statistics.median(lengths)),
                max_tokens=max(lengths),
                trimmed=sum(1 for n in lengths if n > max_length),
            )
        )
    return out
