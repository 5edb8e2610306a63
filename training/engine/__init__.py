"""The trainer itself: plain torch + transformers + accelerate, no Django.

`conversations` turns LIMA rows into token ids and labels, `batching` plans the optimizer
steps, `dropout` adds LIMA's residual dropout with hooks, `schedule` is the learning rate,
and `loop` runs it all and saves checkpoints that vLLM loads."""
