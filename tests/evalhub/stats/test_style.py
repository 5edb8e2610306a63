"""Style features: FastChat's markdown rules, code blocks first, and named tokenizers."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalhub.stats.style import (
    DEFAULT_TOKENIZER,
    RegexTokenCounter,
    markdown_counts,
    style_features,
    without_code_blocks,
)
from tests.evalhub.stats.fastchat_reference import fastchat_markdown_counts

ANSWERS = [
    "# Title\n## Sub\n### Deeper\n####### not a header\n#no space",
    "1. one\n2. two\n   3. nested\n- dash\n* star\n+ plus\n-not a list",
    "**bold** and __also__ but **not\nbold** nor ****",
    "Intro\n```python\n# comment\n- item\n**x**\n```\n- real item\n# Real header",
    "```a``` ```b``` **kept** ```unclosed\n# header after",
    "",
    "Plain prose without any markdown at all.",
]


def test_it_counts_headers_lists_and_bold_by_hand() -> None:
    assert markdown_counts(ANSWERS[0]) == (3, 0, 0)
    assert markdown_counts(ANSWERS[1]) == (0, 6, 0)
    # upstream's bold rule also pairs the "**" closing "bold**" with the first two of "****"
    assert markdown_counts(ANSWERS[2]) == (0, 0, 3)


def test_it_removes_code_blocks_before_counting() -> None:
    # the header, list item and bold inside the fence do not count
    assert markdown_counts(ANSWERS[3]) == (1, 1, 0)
    assert "# comment" not in without_code_blocks(ANSWERS[3])


def test_it_matches_fastchats_add_markdown_info(tmp_path: Path) -> None:
    theirs = fastchat_markdown_counts(tmp_path, ANSWERS)
    assert [list(markdown_counts(text)) for text in ANSWERS] == theirs


def test_it_names_the_default_tokenizer_and_counts_words_and_marks() -> None:
    counter = RegexTokenCounter()
    features = style_features(["Hello, world!", "## Two\n- a"], counter)
    assert counter.name == DEFAULT_TOKENIZER
    # "Hello , world !" then "# # Two - a": each mark is one token
    assert features.tokens == 4 + 5
    assert (features.headers, features.lists, features.bold) == (1, 1, 0)
    assert features.as_conv_metadata("a")["sum_assistant_a_tokens"] == 9


def test_it_uses_a_local_tokenizer_without_downloading(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from evalhub.stats.style import LocalTokenizerCounter
    from generation.tiny_model import build_tiny_model

    path = build_tiny_model(tmp_path / "tiny")
    counter = LocalTokenizerCounter(path)
    assert counter.name == "local:tiny"
    assert counter.count("Hello world") > 0
