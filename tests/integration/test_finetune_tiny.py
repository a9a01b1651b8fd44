"""End to end on CPU: feedback → export sft/dpo → LoRA SFT + DPO on a tiny random Llama → adapter
and Ollama Modelfile. Nothing is downloaded: the tokenizer is trained here on the exported texts."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

for _module in ("torch", "transformers", "peft", "trl", "datasets"):
    pytest.importorskip(_module, reason=f"{_module} is not installed (pip install -e '.[finetune]')")

from agent.feedback.export import export
from agent.feedback.store import FeedbackStore
from finetune import train_lora

SYSTEM = "You answer EMC questions from the evidence."
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIALS = ["<unk>", "<pad>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]


def _feedback_files(tmp: Path) -> tuple[Path, Path]:
    store = FeedbackStore(tmp / "feedback.db")
    ev = [{"n": 1, "doc": "MIL-STD-461G", "clause": "5.21", "title": "RS103", "page": 120,
           "table": "TABLE XI", "text": "Radiated susceptibility, electric field, 2 MHz to 40 GHz."}]
    q = "Which test does clause 5.21 require?"
    good = store.log_answer(q, "Clause 5.21 requires RS103 [1].", evidence=ev, citations=ev)
    bad = store.log_answer(q, "Clause 5.21 requires CE102.", evidence=ev)
    other = store.log_answer("What field strength for RS103?", "10 V/m.", evidence=ev)
    store.add_feedback(good, 1, "", "alice")
    store.add_feedback(bad, -1, "", "bob")
    store.add_feedback(other, -1, "correct: 200 V/m for aircraft, see TABLE XI [1].", "bob")
    store.add_correction("5.21 RS103", [7], doc="MIL-STD-461G", clause="5.21", user="alice")
    sft, dpo = tmp / "sft.jsonl", tmp / "dpo.jsonl"
    assert export("sft", store, sft, system=SYSTEM) == 3
    assert export("dpo", store, dpo, system=SYSTEM) == 3
    return sft, dpo


def _tiny_base(tmp: Path, texts: list[str]) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=SPECIALS))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                        eos_token="<|end|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    base = tmp / "tiny-llama"
    LlamaForCausalLM(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    return base


def _texts(*files: Path) -> list[str]:
    texts = []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for key in ("messages", "prompt", "chosen", "rejected"):
                texts += [m["content"] for m in record.get(key, [])]
    return texts


def test_lora_sft_then_dpo_writes_adapter_and_modelfile(tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    sft, dpo = _feedback_files(tmp_path)
    base = _tiny_base(tmp_path, _texts(sft, dpo))
    out = tmp_path / "adapter"
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="finetune.train_lora"):
        code = train_lora.main(["--sft", str(sft), "--dpo", str(dpo), "--base", str(base),
                                "--out", str(out), "--max-steps", "2", "--tiny"])
    logging.getLogger(__name__).info("tiny SFT+DPO took %.1f s", time.monotonic() - started)
    assert code == 0
    assert "SFT done: 2 steps" in caplog.text and "DPO done: 2 steps" in caplog.text
    assert sorted(p.name for p in out.iterdir()) == [
        "Modelfile", "README.md", "adapter_config.json", "adapter_model.safetensors"]
    config = json.loads((out / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["peft_type"]) == (16, 32, "LORA")
    assert sorted(config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    from safetensors import safe_open

    with safe_open(str(out / "adapter_model.safetensors"), "pt") as f:
        keys = sorted(f.keys())
    assert len(keys) == 2 * 4 * 2  # 2 layers × 4 projections × (lora_A, lora_B)
    assert all(".ref." not in k for k in keys)  # DPO's frozen reference copy is not saved
    assert "layers.0.self_attn.q_proj.lora_A.weight" in keys[0] or any(
        k.endswith("layers.0.self_attn.q_proj.lora_A.weight") for k in keys)
    from agent.feedback.export import system_prompt

    assert (out / "Modelfile").read_text() == (
        f"FROM llama3.1:8b\nADAPTER {out.resolve()}\nPARAMETER num_ctx 8192\n"
        f'SYSTEM """{system_prompt()}"""\n')
    printed = capsys.readouterr().out
    assert f"ollama create spec-agent-emc -f {out / 'Modelfile'}" in printed
    assert "SPEC_AGENT_MODEL=spec-agent-emc" in printed
