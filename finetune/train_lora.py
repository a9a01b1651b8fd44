"""LoRA fine-tuning on exported feedback: SFT with TRL's SFTTrainer, then optional DPO; writes
the adapter and an Ollama Modelfile.

    python -m finetune.train_lora --sft sft.jsonl [--dpo dpo.jsonl]
        --base meta-llama/Llama-3.1-8B-Instruct --out adapters/emc [--max-steps N] [--tiny]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune.modelfile import DEFAULT_FROM, instructions, ollama_base, write_modelfile

log = logging.getLogger(__name__)

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


@dataclass(kw_only=True, frozen=True)
class Recipe:
    """Training knobs; `tiny` is for CPU smoke runs on a toy model, the default for a 24 GB GPU."""

    max_steps: int = -1  # -1: train for `epochs`
    sft_epochs: float = 3.0
    dpo_epochs: float = 1.0
    sft_lr: float = 2e-4
    dpo_lr: float = 5e-5
    dpo_beta: float = 0.1
    batch_size: int = 1
    grad_accum: int = 8
    max_length: int = 4096  # question + 6 evidence chunks + answer fit in about 3k tokens
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    load_4bit: bool = False  # QLoRA (needs bitsandbytes and a CUDA GPU)
    tiny: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Recipe:
        if args.tiny:
            return cls(max_steps=args.max_steps, batch_size=2, grad_accum=1, max_length=256,
                       sft_lr=1e-3, dpo_lr=1e-3, tiny=True)
        return cls(max_steps=args.max_steps, load_4bit=args.qlora)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m finetune.train_lora", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sft", required=True, type=Path, help="SFT JSON lines (spec-agent export sft).")
    p.add_argument("--dpo", type=Path, help="DPO JSON lines (spec-agent export dpo), trained after SFT.")
    p.add_argument("--base", required=True, help="Hugging Face model id or local folder of the base.")
    p.add_argument("--out", required=True, type=Path, help="Folder for the adapter and Modelfile.")
    p.add_argument("--max-steps", type=int, default=-1, help="Stop each stage after N steps.")
    p.add_argument("--tiny", action="store_true", help="CPU smoke run: fp32, short sequences.")
    p.add_argument("--qlora", action="store_true", help="Load the base in 4 bit (bitsandbytes, CUDA).")
    p.add_argument("--ollama-from", help="Ollama base for the Modelfile (default: matches --base).")
    args = p.parse_args(argv)
    for path in (args.sft, args.dpo):
        if path is not None and not path.is_file():
            p.error(f"{path}: no such file; write it with `spec-agent export sft|dpo --out {path}`")
    return args


def load_base(base: str, recipe: Recipe) -> tuple[Any, Any]:
    """The base model and its tokenizer (pad token set), in bf16 on a GPU, fp32 otherwise."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {"dtype": torch.float32 if recipe.tiny else _gpu_dtype()}
    if recipe.load_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    return model, tokenizer


def _gpu_dtype() -> Any:
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def lora_config(recipe: Recipe) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=recipe.lora_r, lora_alpha=recipe.lora_alpha, lora_dropout=recipe.lora_dropout,
                      target_modules=LORA_TARGETS, bias="none", task_type="CAUSAL_LM")


def _common(recipe: Recipe, run_dir: Path, epochs: float, lr: float) -> dict[str, Any]:
    bf16 = not recipe.tiny and str(_gpu_dtype()) == "torch.bfloat16"
    return dict(
        output_dir=str(run_dir), max_steps=recipe.max_steps, num_train_epochs=epochs,
        learning_rate=lr, per_device_train_batch_size=recipe.batch_size,
        gradient_accumulation_steps=recipe.grad_accum, max_length=recipe.max_length,
        bf16=bf16, gradient_checkpointing=not recipe.tiny, use_cpu=recipe.tiny,
        logging_steps=1 if recipe.tiny else 10, save_strategy="no", report_to=[],
        lr_scheduler_type="cosine", warmup_steps=0 if recipe.tiny else 10,
    )


def read_jsonl(path: Path) -> Any:
    """A JSON-lines file as a datasets.Dataset (in memory: no cache files beside the data)."""
    import json

    from datasets import Dataset

    lines = path.read_text(encoding="utf-8").splitlines()
    return Dataset.from_list([json.loads(line) for line in lines if line.strip()])


def as_prompt_completion(path: Path) -> Any:
    """SFT messages split into prompt (system, user) and completion (assistant), so the loss
    falls on the answer only, not on the evidence the model is given."""
    ds = read_jsonl(path)
    if not len(ds):
        raise SystemExit(f"error: {path} holds no examples; export some with `spec-agent export sft`")
    return ds.map(lambda r: {"prompt": r["messages"][:-1], "completion": r["messages"][-1:]},
                  remove_columns=ds.column_names)


def train_sft(model: Any, tokenizer: Any, sft: Path, recipe: Recipe, run_dir: Path) -> Any:
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(**_common(recipe, run_dir / "sft", recipe.sft_epochs, recipe.sft_lr))
    trainer = SFTTrainer(model=model, args=config, train_dataset=as_prompt_completion(sft),
                         processing_class=tokenizer, peft_config=lora_config(recipe))
    result = trainer.train()
    log.info("SFT done: %d steps, loss %.4f", result.global_step, result.training_loss)
    return trainer.model


def train_dpo(peft_model: Any, tokenizer: Any, dpo: Path, recipe: Recipe, run_dir: Path) -> Any:
    """DPO on the SFT adapter; TRL keeps a frozen copy of it ("ref") as the reference model."""
    from trl import DPOConfig, DPOTrainer

    ds = read_jsonl(dpo)
    if not len(ds):
        log.warning("%s holds no preference pairs; skipping DPO", dpo)
        return peft_model
    config = DPOConfig(beta=recipe.dpo_beta, **_common(recipe, run_dir / "dpo", recipe.dpo_epochs,
                                                       recipe.dpo_lr))
    trainer = DPOTrainer(model=peft_model, args=config, train_dataset=ds, processing_class=tokenizer)
    result = trainer.train()
    log.info("DPO done: %d steps, loss %.4f", result.global_step, result.training_loss)
    return trainer.model


def save_adapter(peft_model: Any, out: Path) -> Path:
    """adapter_model.safetensors + adapter_config.json in `out` (the trained adapter only)."""
    out.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(out), selected_adapters=["default"], safe_serialization=True)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    recipe = Recipe.from_args(args)
    model, tokenizer = load_base(args.base, recipe)
    with tempfile.TemporaryDirectory(prefix="spec-agent-train-") as tmp:
        peft_model = train_sft(model, tokenizer, args.sft, recipe, Path(tmp))
        if args.dpo:
            peft_model = train_dpo(peft_model, tokenizer, args.dpo, recipe, Path(tmp))
    adapter = save_adapter(peft_model, args.out)
    from_model = args.ollama_from or ollama_base(args.base) or DEFAULT_FROM
    if not args.ollama_from and ollama_base(args.base) is None:
        log.warning("no known Ollama model for %s; the Modelfile says FROM %s — pass --ollama-from "
                    "with the Ollama model of the same weights", args.base, from_model)
    modelfile = write_modelfile(adapter, from_model=from_model)
    print(f"adapter: {adapter}\nModelfile: {modelfile}\n{instructions(modelfile)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
