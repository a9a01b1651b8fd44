"""The errors a user can cause, each with a one-line message: what happened, what to do."""

from __future__ import annotations


class SpecAgentError(Exception):
    """Base of every error shown to a user; `str(err)` is the one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IngestError(SpecAgentError):
    """A file could not be ingested; the message names the file."""

    reason = "cannot be read"
    advice = "check the file and try again"

    def __init__(self, path: str, detail: str | None = None) -> None:
        from pathlib import Path

        name = Path(path).name
        what = detail or self.reason
        super().__init__(f"{name}: {what}; {self.advice}.")
        self.path = path


class DrmProtected(IngestError):
    reason = "DRM-protected (enterprise rights-management container)"
    advice = "export an unprotected copy (PDF or DOCX) from your DRM client and ingest that"


class Encrypted(IngestError):
    reason = "password-encrypted"
    advice = "save a copy without a password and ingest that"


class Scanned(IngestError):
    reason = "scanned PDF with no text layer (nothing to index)"
    advice = "run OCR on it (e.g. ocrmypdf) or ask the OEM for the text PDF"


class Corrupt(IngestError):
    reason = "corrupt or truncated file"
    advice = "download or export it again"


class Unsupported(IngestError):
    reason = "unsupported file type"
    advice = "give a PDF or DOCX specification"


class TooLarge(IngestError):
    reason = "file too large"
    advice = "raise the limit with --max-mb (SPEC_AGENT_MAX_MB) or split the file"


class UnpacksTooLarge(TooLarge):
    reason = "unpacks to more than the size limit (a ZIP bomb?)"
    advice = (
        "check where the file came from; if it is a genuine specification, raise the limit with "
        "--max-mb (SPEC_AGENT_MAX_MB)"
    )


class OutOfMemory(TooLarge):
    reason = "parsing needed more memory than allowed and was stopped"


class ParseTimeout(IngestError):
    reason = "parsing took too long and was stopped"
    advice = "raise --parse-timeout or export the file again (it may be malformed)"


class ParserCrashed(IngestError):
    reason = "the parser crashed on this file"
    advice = "export the file again (e.g. print to PDF) and retry"


class EmbedderMismatch(SpecAgentError):
    """The index was built with another embedder than the one now configured."""


class NotFound(SpecAgentError):
    """A clause, table or document that the index does not hold."""


class OllamaUnavailable(SpecAgentError):
    """No Ollama server answered; callers fall back to offline mode."""
