"""The words raters see: LIMA's own instructions (Zhou et al., "LIMA: Less Is More for
Alignment", NeurIPS 2023, Appendix C, Figure 11) and its Fail / Pass / Excellent scale
(Section 4.3)."""

PAIRWISE_INTRO = (
    "Imagine that you have a super-intelligent AI assistant, and that you require help with "
    "the following question. Which answer best satisfies your needs?"
)
PAIRWISE_QUESTION = "Comparing these two answers, which answer is better?"
PAIRWISE_CHOICES = [
    ("A", "Answer A is significantly better."),
    ("B", "Answer B is significantly better."),
    ("tie", "Neither is significantly better."),
]
ABSOLUTE_QUESTION = "How well does the answer meet the request?"
LABELS = [
    ("fail", "Fail", "The response does not meet the requirements of the prompt."),
    ("pass", "Pass", "The response meets the requirements of the prompt."),
    ("excellent", "Excellent", "The response gives an excellent response to the prompt."),
]
CREDIT = 'Instructions from Zhou et al., "LIMA: Less Is More for Alignment" (NeurIPS 2023).'
