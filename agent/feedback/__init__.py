"""Learning from engineers: corrections, answer log, thumbs, and training-data export."""

from agent.feedback.store import (
    Answer,
    Correction,
    Feedback,
    FeedbackStore,
    correction_examples,
    question_similarity,
)

__all__ = [
    "Answer",
    "Correction",
    "Feedback",
    "FeedbackStore",
    "correction_examples",
    "question_similarity",
]
