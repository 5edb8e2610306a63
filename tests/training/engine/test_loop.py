"""The trainer end to end on the tiny model: LIMA's optimizer, schedule and batch, a
falling loss, plain checkpoints, and resuming after an interruption.

torch, transformers and training.engine.loop (which imports torch) are imported inside the
tests: every xdist worker collects this module, and most run none of its tests."""

import json

import pytest

from training.recipes import LIMA_65B, RecipeSettings


class Recorder:
    def __init__(self, stop_after_step: int | None = None) -> None:
        self.steps, self.checkpoints = [], []
        self.stop_after_step = stop_after_step

    def step_done(self, metrics):
        self.steps.append(metrics)
        if metrics.step == self.stop_after_step:
            raise KeyboardInterrupt("stop here")

    def checkpoint_saved(self, *, epoch, step, path):
        self.checkpoints.append((epoch, step, path))


def test_the_lima_learning_rate_runs_from_1e_5_to_1e_6_over_all_steps(
    tiny_model_dir, conversations, tmp_path
):
    from training.engine.loop import train

    settings = LIMA_65B.replace(epochs=3, batch_size=2, save_epochs=[3])
    recorder = Recorder()
    result = train(base_model=str(tiny_model_dir), conversations=conversations,
                   settings=settings, out_dir=tmp_path, observer=recorder)  # fmt: skip
    lrs = [m.lr for m in recorder.steps]
    assert len(lrs) == result.total_steps == 3 * 2  # 4 examples, batch 2, 3 epochs
    assert lrs[0] == 1e-5 and lrs[-1] == 1e-6
    assert lrs == pytest.approx([1e-5 - k * (9e-6 / 5) for k in range(6)], rel=1e-12)
    assert [m.epoch for m in recorder.steps] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert recorder.steps[-1].eta_s == 0 and all(m.tokens_per_s > 0 for m in recorder.steps)


def test_the_loss_falls_on_a_small_dataset(tiny_model_dir, conversations, tmp_path):
    from training.engine.loop import train

    settings = RecipeSettings(epochs=12, batch_size=4, lr_start=3e-3, lr_end=1e-3,
                              residual_dropout_top=0.1, save_epochs=[])  # fmt: skip
    result = train(base_model=str(tiny_model_dir), conversations=conversations,
                   settings=settings, out_dir=tmp_path)  # fmt: skip
    losses = [m.loss for m in result.metrics]
    assert len(losses) == 12
    assert losses[-1] < 0.5 * losses[0]
    assert sum(losses[-3:]) < sum(losses[:3])


def test_the_optimizer_is_adamw_with_lima_betas_and_weight_decay(
    tiny_model_dir, conversations, tmp_path
):
    import torch
    from accelerate import Accelerator

    from training.engine.loop import train

    accelerator = Accelerator(cpu=True)
    train(base_model=str(tiny_model_dir), conversations=conversations,
          settings=LIMA_65B.replace(epochs=1, save_epochs=[]), out_dir=tmp_path,
          accelerator=accelerator)  # fmt: skip
    [optimizer] = accelerator._optimizers
    group = optimizer.optimizer.param_groups[0]
    assert type(optimizer.optimizer) is torch.optim.AdamW
    assert group["betas"] == (0.9, 0.95) and group["weight_decay"] == 0.1


def test_checkpoints_are_plain_hugging_face_with_the_new_eot(
    tiny_model_dir, conversations, tmp_path
):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.engine.loop import train

    settings = LIMA_65B.replace(
        epochs=2, batch_size=4, save_epochs=[1, 2], eot_token="<|lima_eot|>"
    )
    recorder = Recorder()
    result = train(base_model=str(tiny_model_dir), conversations=conversations,
                   settings=settings, out_dir=tmp_path, observer=recorder)  # fmt: skip
    assert [(e, s) for e, s, _ in recorder.checkpoints] == [(1, 1), (2, 2)]
    path = tmp_path / "epoch-02"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    weights = load_file(path / "model.safetensors")
    assert set(weights) == set(base.state_dict())  # nothing from the hooks
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.convert_tokens_to_ids("<|lima_eot|>") == result.eot_id == len(tokenizer) - 1
    generation = json.loads((path / "generation_config.json").read_text())
    assert generation["eos_token_id"][0] == result.eot_id
    assert result.eot_id != tokenizer.pad_token_id
    reloaded = AutoModelForCausalLM.from_pretrained(path)
    assert reloaded.get_input_embeddings().weight.shape[0] == len(tokenizer)
    assert not reloaded.model.layers[1].mlp._forward_hooks
    assert not (tmp_path / "resume").exists()  # removed once the run finished


def test_an_interrupted_run_resumes_from_its_last_epoch(tiny_model_dir, conversations, tmp_path):
    import torch
    from safetensors.torch import load_file

    from training.engine.loop import train

    settings = RecipeSettings(epochs=3, batch_size=2, save_epochs=[3], residual_dropout_top=0.0)
    with pytest.raises(KeyboardInterrupt):
        train(base_model=str(tiny_model_dir), conversations=conversations, settings=settings,
              out_dir=tmp_path, observer=Recorder(stop_after_step=5))  # fmt: skip
    assert json.loads((tmp_path / "resume" / "progress.json").read_text()) == {
        "epoch": 2,
        "step": 4,
    }
    recorder = Recorder()
    resumed = train(base_model=str(tiny_model_dir), conversations=conversations,
                    settings=settings, out_dir=tmp_path, observer=recorder)  # fmt: skip
    assert [m.step for m in recorder.steps] == [5, 6]
    assert [m.lr for m in recorder.steps][-1] == 1e-6
    assert resumed.checkpoints == [(3, tmp_path / "epoch-03")]
    # The same run uninterrupted reaches the same weights (dropout 0, same seed and order).
    straight = train(base_model=str(tiny_model_dir), conversations=conversations,
                     settings=settings, out_dir=tmp_path / "straight")  # fmt: skip
    a = load_file(tmp_path / "epoch-03" / "model.safetensors")
    b = load_file(tmp_path / "straight" / "epoch-03" / "model.safetensors")
    assert straight.steps == 6
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)
