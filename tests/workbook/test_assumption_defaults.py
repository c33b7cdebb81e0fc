"""The per-company defaults keep the rules their notes state."""

from __future__ import annotations

from gpuval.data.dataset import load_dataset
from gpuval.workbook.sheets import assumptions, peers


def test_terminal_return_on_capital_is_each_companys_mature_cost_of_capital() -> None:
    """Damodaran's default, which the note states: no excess returns in perpetuity, so the
    terminal return on capital is the company's own mature cost of capital (NVIDIA's 8.5 %, not
    the generic 9 %)."""
    rows = {r.spec.name: r for _, section in assumptions.rows() for r in section}
    companies = [row["id"] for row in peers.peer_rows(load_dataset())]
    assert "nvidia" in companies
    for company in companies:
        roc = assumptions.default(rows["dcf_terminal_roc"], company)
        coc = assumptions.default(rows["dcf_mature_coc"], company)
        assert "equal to the mature cost of capital" in roc.note, company
        assert roc.value == coc.value, (company, roc.value, coc.value)
