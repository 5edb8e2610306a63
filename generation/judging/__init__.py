"""LLM judges: LIMA's pairwise and Likert instruments run against any OpenAI-compatible
endpoint, both orders, structured verdicts, a content-addressed cache, shared rate limits
and priced tokens. Services in `services`, reads in `selectors`."""
