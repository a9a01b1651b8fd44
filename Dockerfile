# spec-agent: the chat server (and the CLI) in one image. The index lives on the volume /data;
# the model runs in another container (compose.yaml: Ollama, or vLLM with --profile vllm).
# Installed as CI installs it (.ci/run: uv venv, then uv pip install -e of this project), without
# the dev tools and without the optional torch extras (st, finetune): CPU only, no model inside.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    SPEC_AGENT_INDEX=/data/index \
    HOME=/home/spec-agent

RUN groupadd --system --gid 10001 spec-agent \
    && useradd --system --uid 10001 --gid spec-agent --create-home --home-dir /home/spec-agent spec-agent

WORKDIR /app
COPY pyproject.toml README.md chainlit.md ./
COPY agent ./agent
COPY ui ./ui
COPY prompts ./prompts
COPY public ./public
COPY .chainlit/config.toml ./.chainlit/config.toml

RUN python -m pip install --no-cache-dir -q --upgrade uv \
    && uv venv -q --python 3.11 /opt/venv \
    && uv pip install -q --no-cache -e . \
    && mkdir -p /data /app/.files /app/.chainlit/translations \
    && chown -R spec-agent:spec-agent /data /app/.files /app/.chainlit

USER spec-agent
VOLUME ["/data"]
EXPOSE 8000

# Unhealthy while `spec-agent doctor` finds a problem (exit 1): the model not pulled yet, a
# damaged index or database. A model server that does not answer is a warning, not a failure.
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["spec-agent", "doctor", "--json"]

# Inside the container the chat listens on every interface (--host 0.0.0.0, said here on
# purpose: `spec-agent ui` alone stays on 127.0.0.1); compose.yaml publishes the port on the
# host's loopback unless SPEC_AGENT_BIND says otherwise.
CMD ["spec-agent", "ui", "--host", "0.0.0.0", "--port", "8000", "--headless"]
