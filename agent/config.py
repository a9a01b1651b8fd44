"""One Settings object for the whole product; environment variables fill what flags leave unset."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

EMBEDDER_KINDS = ("auto", "lsa", "ollama:<model>", "openai:<model>", "sentence-transformers:<name or path>")


def _default_labels_dir() -> str:
    """The 2024 prototype's seed labels, where a checkout has ../shared beside it."""
    here = Path(__file__).resolve().parents[2] / "shared" / "seed" / "labels"
    return str(here) if here.is_dir() else ""


@dataclass(kw_only=True, frozen=True)
class Settings:
    index_dir: Path = field(
        default=Path(".spec-agent"),
        metadata={"env": "SPEC_AGENT_INDEX", "help": "Index directory (documents, vectors, feedback)."},
    )
    ollama_host: str = field(
        default="http://127.0.0.1:11434",
        metadata={"env": "OLLAMA_HOST", "help": "Ollama server address (Ollama's own variable)."},
    )
    chat_model: str = field(
        default="llama3.1:8b",
        metadata={"env": "SPEC_AGENT_MODEL", "help": "Ollama chat model; plain llama3 works without tools."},
    )
    temperature: float = field(
        default=0.0, metadata={"env": "SPEC_AGENT_TEMPERATURE", "help": "Sampling temperature."}
    )
    num_ctx: int = field(
        default=8192,
        metadata={"env": "SPEC_AGENT_NUM_CTX", "help": "Context window sent to Ollama (num_ctx)."},
    )
    embedder: str = field(
        default="auto",
        metadata={
            "env": "SPEC_AGENT_EMBEDDER",
            "help": "auto | lsa | ollama:<model> | sentence-transformers:<name or path>.",
        },
    )
    ollama_embed_model: str = field(
        default="nomic-embed-text",
        metadata={"env": "SPEC_AGENT_EMBED_MODEL", "help": "Ollama embedding model used by 'auto'."},
    )
    top_k: int = field(default=6, metadata={"env": "SPEC_AGENT_TOP_K", "help": "Hits per search."})
    max_file_mb: float = field(
        default=50.0, metadata={"env": "SPEC_AGENT_MAX_MB", "help": "Largest file ingested, in MB."}
    )
    parse_timeout_s: float = field(
        default=120.0,
        metadata={"env": "SPEC_AGENT_PARSE_TIMEOUT", "help": "Seconds one file may take to parse."},
    )
    min_chars_per_page: int = field(
        default=40,
        metadata={
            "env": "SPEC_AGENT_MIN_CHARS_PER_PAGE",
            "help": "Below this many text characters per page a PDF counts as scanned.",
        },
    )
    chunk_chars: int = field(
        default=1500,
        metadata={"env": "SPEC_AGENT_CHUNK_CHARS", "help": "Longest clause chunk before splitting."},
    )
    catalogue: str = field(
        default="",
        metadata={"env": "SPEC_AGENT_CATALOGUE", "help": "Your own test catalogue (YAML); empty: built-in."},
    )
    facets: str = field(
        default="",
        metadata={"env": "SPEC_AGENT_FACETS", "help": "Your own wording vocabulary for tests (facets YAML); empty: built-in."},
    )
    labels_dir: str = field(
        default_factory=_default_labels_dir,
        metadata={"env": "SPEC_AGENT_LABELS", "help": "Folder of labelled headings (seed labels)."},
    )
    offline: bool = field(
        default=False, metadata={"env": "SPEC_AGENT_OFFLINE", "help": "Never call Ollama."}
    )
    ollama_timeout_s: float = field(
        default=2.0,
        metadata={"env": "SPEC_AGENT_OLLAMA_TIMEOUT", "help": "Seconds to wait for Ollama to answer a probe."},
    )
    llm: str = field(
        default="ollama",
        metadata={
            "env": "SPEC_AGENT_LLM",
            "help": "Chat model backend: ollama | openai (any OpenAI-compatible server: vLLM, "
                    "llama.cpp, LM Studio; set OPENAI_BASE_URL).",
        },
    )
    openai_base_url: str = field(
        default="",
        metadata={"env": "OPENAI_BASE_URL", "help": "OpenAI-compatible server for SPEC_AGENT_LLM=openai "
                                                   "(e.g. http://gpu-server:8000/v1; the OpenAI SDK's own variable)."},
    )
    openai_api_key: str = field(
        default="",
        repr=False,
        metadata={"env": "OPENAI_API_KEY", "help": "API key for that server; optional (local servers ignore it)."},
    )
    llm_concurrency: int = field(
        default=2,
        metadata={
            "env": "SPEC_AGENT_LLM_CONCURRENCY",
            "help": "Model requests one chat server sends at once (its users share them); the others "
                    "wait in turn and are told their place. Tools, matching and tables never wait.",
        },
    )
    allow_origins: str = field(
        default="",
        metadata={
            "env": "SPEC_AGENT_ALLOW_ORIGINS",
            "help": "Web origins besides its own that the chat server accepts, comma-separated "
                    "(e.g. https://specs.example.com); every other web page is refused.",
        },
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Settings from flags (overrides, None = unset) over environment over defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if overrides.get(f.name) is not None:
                values[f.name] = _coerce(f.type, overrides[f.name])
            elif f.metadata.get("env") in env:
                values[f.name] = _coerce(f.type, env[f.metadata["env"]])
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; allowed: {[f.name for f in fields(cls)]}")
        return cls(**values)

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def _coerce(kind: Any, value: Any) -> Any:
    kind = str(kind)
    if "Path" in kind:
        return Path(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value
