"""Ollama Modelfile for a trained LoRA adapter: base model, adapter, system prompt, context size."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from agent.feedback.export import system_prompt  # the agent's own system prompt

log = logging.getLogger(__name__)

MODEL_NAME = "spec-agent-emc"
DEFAULT_FROM = "llama3.1:8b"
NUM_CTX = 8192
# Hugging Face base → the Ollama model with the same weights (an adapter fits only its base).
OLLAMA_BASES = {
    "meta-llama/llama-3.1-8b-instruct": "llama3.1:8b",
    "meta-llama/meta-llama-3.1-8b-instruct": "llama3.1:8b",
    "meta-llama/meta-llama-3-8b-instruct": "llama3:8b",
    "meta-llama/llama-3.2-3b-instruct": "llama3.2:3b",
}


def ollama_base(hf_base: str) -> str | None:
    """The Ollama model matching a Hugging Face base id, when known."""
    return OLLAMA_BASES.get(hf_base.strip().lower())


def render(adapter_dir: Path | str, from_model: str = DEFAULT_FROM, system: str | None = None,
           num_ctx: int = NUM_CTX) -> str:
    """Modelfile text; the adapter path is absolute so `ollama create` works from anywhere."""
    text = (system if system is not None else system_prompt()).replace('"""', '"\\""')
    return (
        f"FROM {from_model}\n"
        f"ADAPTER {Path(adapter_dir).resolve()}\n"
        f"PARAMETER num_ctx {num_ctx}\n"
        f'SYSTEM """{text}"""\n'
    )


def write_modelfile(adapter_dir: Path | str, out: Path | str | None = None,
                    from_model: str = DEFAULT_FROM, system: str | None = None) -> Path:
    """Write the Modelfile (default: beside the adapter) and return its path."""
    adapter = Path(adapter_dir)
    if not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{adapter}: no adapter_config.json; train an adapter first")
    path = Path(out) if out else adapter / "Modelfile"
    path.write_text(render(adapter, from_model, system), encoding="utf-8")
    log.info("wrote %s (FROM %s)", path, from_model)
    return path


def instructions(modelfile: Path) -> str:
    return (
        f"ollama create {MODEL_NAME} -f {modelfile}\n"
        f"then use it: SPEC_AGENT_MODEL={MODEL_NAME} spec-agent ask ...  "
        f"(or export SPEC_AGENT_MODEL={MODEL_NAME} before `spec-agent ui`)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finetune.modelfile", description=__doc__)
    parser.add_argument("--adapter", required=True, help="Folder with adapter_config.json + safetensors.")
    parser.add_argument("--out", help="Modelfile to write (default: <adapter>/Modelfile).")
    parser.add_argument("--from", dest="from_model", default=DEFAULT_FROM,
                        help=f"Ollama base model the adapter was trained on (default {DEFAULT_FROM}).")
    args = parser.parse_args(argv)
    try:
        path = write_modelfile(args.adapter, args.out, args.from_model)
    except FileNotFoundError as err:
        parser.exit(1, f"error: {err}\n")
    print(instructions(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
