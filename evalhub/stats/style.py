"""Style features of an answer, counted with FastChat's rules (Chatbot Arena style control).

FastChat's `add_markdown_info.py` joins the assistant turns with "\\n", removes every
"```...```" block (the exact text of each match, wherever it occurs), then counts with
line-anchored regular expressions:
  * headers: lines starting with 1..6 "#" and then whitespace ("^#{k}\\s", k = 1..6);
  * lists: ordered "^\\s*\\d+\\.\\s" and unordered "^\\s*[-*+]\\s" lines;
  * bold: "**text**" and "__text__" runs on one line.
Token counts are the assistant text's tokens (code blocks kept, as in FastChat's
`sum_assistant_*_tokens`) with a tokenizer that is named in the results; nothing here
downloads one (see TokenCounter).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CODE_BLOCK = re.compile(r"```([^`]*)```")
_HEADERS = tuple(re.compile(rf"^#{{{k}}}\s", re.MULTILINE) for k in range(1, 7))
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD_STARS = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+__")

# The stated default when EvalHub has no tokenizer of the judged model: words and single
# punctuation marks. It ships with Python; GPT-style BPE files would need a download here.
DEFAULT_TOKENIZER = r"regex:\w+|[^\w\s]"
_DEFAULT_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class StyleFeatures:
    """One side's style: assistant tokens and markdown element counts (FastChat's names)."""

    tokens: int
    headers: int
    lists: int
    bold: int

    def as_conv_metadata(self, side: str) -> dict[str, int]:
        """The four counts as FastChat's conv_metadata keys for side "a" or "b"."""
        return {
            f"sum_assistant_{side}_tokens": self.tokens,
            f"header_count_{side}": self.headers,
            f"list_count_{side}": self.lists,
            f"bold_count_{side}": self.bold,
        }


def without_code_blocks(text: str) -> str:
    """The text with every ```...``` block removed, exactly as FastChat's remove_pattern."""
    for block in CODE_BLOCK.findall(text):
        # findall returns the inner group, so upstream removes the inner text only
        text = text.replace(block, "")
    return text


def markdown_counts(text: str) -> tuple[int, int, int]:
    """(headers, list items, bold runs) of an answer, code blocks removed first."""
    text = without_code_blocks(text)
    headers = sum(len(pattern.findall(text)) for pattern in _HEADERS)
    lists = len(_ORDERED.findall(text)) + len(_UNORDERED.findall(text))
    bold = len(_BOLD_STARS.findall(text)) + len(_BOLD_UNDERSCORES.findall(text))
    return headers, lists, bold


class TokenCounter(Protocol):
    """Counts tokens of a text; `name` says which tokenizer, for the results."""

    name: str

    def count(self, text: str) -> int: ...


class RegexTokenCounter:
    """The stated default tokenizer: words and single punctuation marks (DEFAULT_TOKENIZER)."""

    name = DEFAULT_TOKENIZER

    def count(self, text: str) -> int:
        return sum(1 for _ in _DEFAULT_TOKEN.finditer(text))


class LocalTokenizerCounter:
    """A judged model's own tokenizer from its local checkpoint (never downloaded)."""

    def __init__(self, path: str | Path) -> None:
        from transformers import AutoTokenizer

        self.name = f"local:{Path(path).name}"
        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))


def assistant_text(turns: Iterable[str] | str) -> str:
    """The assistant turns joined as FastChat joins them ("\\n")."""
    return turns if isinstance(turns, str) else "\n".join(turns)


def style_features(turns: Sequence[str] | str, counter: TokenCounter) -> StyleFeatures:
    """Style features of one side's assistant turns (a list of turn texts, or one text)."""
    text = assistant_text(turns)
    headers, lists, bold = markdown_counts(text)
    return StyleFeatures(tokens=counter.count(text), headers=headers, lists=lists, bold=bold)
