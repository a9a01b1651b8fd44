"""Context budget: conservative token counts; evidence trimmed lowest-ranked first."""

from __future__ import annotations

from agent.graph.budget import MESSAGE_OVERHEAD, Budget, count_messages, count_tokens, fit_evidence
from agent.prompts import evidence_block
from agent.schema import Citation


def _item(n: int, words: int) -> Citation:
    return Citation(n, "MIL-STD-461G", f"5.{n}", None, n, None, " ".join(["limit"] * words))


def test_count_tokens_exact_values():
    assert count_tokens("") == 0
    assert count_tokens("abcd") == 2  # 4 chars / 3.2 → 2 (pieces: 1)
    assert count_tokens("the limit") == 3  # 9 chars / 3.2 → 3 (pieces: 1 + 2)
    assert count_tokens("±8 kV") == 4  # pieces: ± (non-ASCII: 2) + 8 + kV = 4; 5 chars / 3.2 → 2
    assert count_tokens("1234567") == 3  # digits: one token per 3
    assert count_tokens("a b c d e f") == 6  # pieces: 6; 11 chars / 3.2 → 4


def test_count_errs_high_against_a_4_chars_per_token_rule():
    text = "RE102 limit 62.4 dB(µV/m) at 100 MHz, measured with 100 kHz bandwidth. " * 20
    assert count_tokens(text) >= len(text) / 3.2 > len(text) / 4


def test_count_messages_adds_overhead():
    assert count_messages(["abcd", "the limit"]) == 2 + 3 + 2 * MESSAGE_OVERHEAD


def test_everything_fits():
    items = [_item(1, 10), _item(2, 10)]
    budget = fit_evidence(["system prompt"], items, num_ctx=8192)
    assert budget.kept == tuple(items)
    assert (budget.dropped, budget.truncated, budget.fits, budget.limit) == ((), None, True, 7168)
    assert budget.prompt_tokens == count_messages(["system prompt"]) + count_tokens(
        evidence_block(items)
    )
    assert (
        budget.report()
        == f"kept 2 of 2 evidence items ({budget.prompt_tokens} of 7168 prompt tokens)"
    )


def test_lowest_ranked_items_are_dropped_first():
    system = "S " * 300  # 600 chars → 188 tokens (+8 overhead)
    items = [_item(n, 100) for n in range(1, 7)]  # each line ≈ 600 chars → ≈ 190 tokens
    fixed_tokens = count_messages([system])
    one = count_tokens(evidence_block(items[:1]))
    limit = fixed_tokens + count_tokens(evidence_block(items[:3]))
    budget = fit_evidence([system], items, num_ctx=limit + 100, reserve=100)
    assert [c.n for c in budget.kept] == [1, 2, 3]
    assert [c.n for c in budget.dropped] == [4, 5, 6]
    assert budget.prompt_tokens == limit
    assert budget.report() == (
        f"kept 3 of 6 evidence items ({limit} of {limit} prompt tokens); "
        "dropped [4], [5], [6] (lowest ranked)"
    )
    assert one < limit - fixed_tokens


def test_best_item_is_cut_when_it_alone_does_not_fit():
    system = "You are spec-agent."
    big = _item(1, 2000)
    budget = fit_evidence([system], [big, _item(2, 5)], num_ctx=600, reserve=100)
    assert budget.truncated == 1
    assert [c.n for c in budget.dropped] == [2]
    assert budget.kept[0].text.endswith(" …") and big.text.startswith(budget.kept[0].text[:-2])
    assert budget.prompt_tokens <= 500
    longer = budget.kept[0].text[:-2] + "limit …"
    assert (
        count_messages([system])
        + count_tokens(evidence_block([Citation(1, "MIL-STD-461G", "5.1", None, 1, None, longer)]))
        > 500
    )
    assert budget.report().endswith("dropped [2] (lowest ranked); cut the text of [1] to fit")


def test_fixed_messages_alone_too_long():
    budget = fit_evidence(["x " * 2000], [_item(1, 5)], num_ctx=1000, reserve=200)
    assert budget == Budget((), (_item(1, 5),), None, count_messages(["x " * 2000]), 800, False)
    assert budget.report().endswith(
        "the system prompt and question alone exceed the context window"
    )
