"""Optional LoRA fine-tuning recipe (extra `finetune`): train on exported feedback, serve with Ollama."""
