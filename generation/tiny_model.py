"""A tiny Llama-architecture checkpoint built locally, for tests and the demo.

It has random weights, so it writes gibberish, but it is a real checkpoint: a Llama config,
safetensors weights, a byte-level BPE tokenizer with a chat template and an end-of-turn
token, and a generation config. vLLM, transformers and the trainer load it like any hub
model, and nothing is downloaded. head_dim is 64 because vLLM's CPU attention rejects
smaller heads."""

from __future__ import annotations

from pathlib import Path

BOS = "<|bos|>"
EOS = "<|eos|>"
PAD = "<|pad|>"
UNK = "<|unk|>"
EOT = "<|eot|>"  # ends every utterance; generation stops here
USER = "<|user|>"
ASSISTANT = "<|assistant|>"
SYSTEM = "<|system|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK, EOT, USER, ASSISTANT, SYSTEM]

# Every message is "<|role|>\n{content}<|eot|>\n"; the generation prompt opens an
# assistant turn, so the model's answer ends where it emits <|eot|>.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|eot|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

# A small English corpus so the BPE merges look like words. Written here, not downloaded.
_CORPUS = """\
Less is more for alignment. A strong pretrained language model learns almost all of its
knowledge during pretraining, and only a small set of careful examples is needed to teach
it the style and format of answering a user. We fine tune on one thousand prompts and
responses, then we ask people which answer they prefer.
How do I make a good cup of coffee? Start with fresh beans, grind them just before you
brew, and use water that is hot but not boiling. Measure the coffee and the water so the
taste stays the same from day to day.
Write a short story about a robot who learns to paint. The robot looked at the sunset for a
long time. Then it picked up a brush and tried to copy the colours it saw: orange, red,
purple and a little gold.
What are the main causes of the French Revolution? Historians point to debt, hunger, unfair
taxes, new ideas about rights, and a king who could not decide what to do.
Explain recursion to a child. Recursion is when a thing is defined using a smaller copy of
itself, like a set of nesting dolls where each doll holds a smaller one inside.
Please give me three tips for learning a new language: practise every day, speak with
native speakers as early as you can, and read things you enjoy.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Sphinx of black quartz, judge my vow. How vexingly quick daft zebras jump!
Thank you for your question. Here is a step by step answer. First, second, third, finally.
In summary, the answer depends on your goals, your budget and the time you have.
def add(a, b): return a + b  # Python code, numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000
Can you recommend a few books about history? Good choices include broad surveys of ancient
empires, biographies of scientists and explorers, and accounts of wars, trade and religion.
My plants keep dying. What am I doing wrong? Most houseplants die from too much water, not
too little. Check that the pot drains, give the plant bright indirect light, and wait until
the soil feels dry before watering again.
Summarize the plot of a famous novel in two sentences. A young woman with sharp opinions
misjudges a proud gentleman, and he misjudges her. Over many letters, dances and family
troubles they learn better, change their minds and marry.
Why is the sky blue? Sunlight contains every colour. Air molecules scatter short blue waves
much more than long red waves, so blue light reaches our eyes from all over the sky.
Draft a polite email asking my manager for a day off next Friday. Dear Maria, I would like
to request a day of leave on Friday. My tasks are on schedule and Tom has agreed to cover
urgent requests. Please let me know if that works. Kind regards, Sam.
Compare cats and dogs as pets. Cats are quiet, clean and independent; dogs are loyal,
playful and need walks, training and company. Choose the animal that fits your home.
What should I pack for a weekend hiking trip in the mountains? Bring layers, a rain jacket,
sturdy boots, water, snacks, a map, a compass, sunscreen, a hat and a small first aid kit.
Translate this sentence into French: where is the train station? Ou est la gare?
Solve the equation two x plus three equals eleven. Subtract three from both sides, then
divide by two: x equals four. Always check the answer by putting it back into the equation.
Describe the water cycle. Water evaporates from oceans and lakes, rises, cools and condenses
into clouds, then falls as rain or snow, flows through rivers and returns to the sea.
Give feedback on my essay introduction. Your thesis is clear, but the opening sentence is
vague. Begin with a concrete example, shorten the second paragraph and cite your sources.
Is it healthy to skip breakfast? Research is mixed. Some people feel fine, others get tired
or hungry later. Listen to your body, and talk with a doctor about specific medical needs.
Plan a birthday party for a seven year old. Pick a theme, invite friends, prepare simple
games, order a cake, decorate with balloons, and keep the party short, bright and cheerful.
Which programming language should a beginner learn first? Python is friendly and readable;
JavaScript runs in every browser; either is a fine start. Build small projects you enjoy.
What is machine learning? Computers learn patterns from examples instead of following rules
written by hand. Models are trained, validated, tested, evaluated and finally deployed.
Wednesday, January, February, March, April, September, October, November, December, winter,
spring, summer, autumn, morning, evening, yesterday, tomorrow, quickly, slowly, carefully.
"""


def _train_tokenizer(vocab_size: int):
    """A byte-level BPE tokenizer trained on the corpus above, wrapped for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Repeat the corpus so rarer merges still reach the minimum frequency.
    tokenizer.train_from_iterator([_CORPUS] * 20, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        additional_special_tokens=[EOT, USER, ASSISTANT, SYSTEM],
        chat_template=CHAT_TEMPLATE,
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
    )


def build_tiny_model(out_dir: Path, *, n_layers: int = 2, seed: int = 0) -> Path:
    """Build and save the tiny checkpoint in `out_dir` (created if missing); returns it.

    Deterministic for a given `seed`. Takes a few seconds on a CPU; the result is ~1 MB."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(vocab_size=1024)
    eot_id = tokenizer.convert_tokens_to_ids(EOT)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=n_layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=2048,
        rms_norm_eps=1e-5,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, eot_id],
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[eot_id, tokenizer.eos_token_id],
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir
