"""The confusion matrix of ``evaluate`` as text that fits the width and never cuts a diagnosis's name.

The matrix is headed by short labels (AA, ITP) with a legend of the whole names under it. When even that
is wider than the terminal it becomes a list, one expected diagnosis a line, wrapped at spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hemedx.cli.environment import MAX_WIDTH

NONE_LABEL = "NONE"  # the column of "nothing fits", and the row of the cases where nothing should
NONE_MEANING = "nothing fits (as a row: the normal cases, where nothing should fit)"
TITLE = "Confusion matrix (rows: expected; columns: top-1; the labels are spelt out below)"
GAP = 3  # spaces between the pairs of a legend set side by side

Matrix = Mapping[str, Mapping[str, int]]


def render_confusion(
    matrix: Matrix,
    shorts: Mapping[str, str],
    name: Callable[[str], str],
    out: Console,
    normal: str,
    none: str,
) -> None:
    """The matrix with a legend when it fits ``out.width``; otherwise the same counts as a list.

    ``shorts`` maps diagnosis ids to their table labels, ``name`` gives a whole name (rows may be the
    ``normal`` row, columns the ``none`` column; both are headed NONE, so the diagonal stays diagonal).
    """
    cols = list(next(iter(matrix.values())).keys()) if matrix else []
    rows = [r for r, counts in matrix.items() if any(counts.values())]

    def short(d: str) -> str:
        return NONE_LABEL if d in (normal, none) else shorts.get(d, d)

    unbounded = out.options.update_width(MAX_WIDTH)  # rich clamps a measurement to the width it is given
    for padding in ((0, 1), (0, 1, 0, 0)):  # roomy, then one space between columns
        table = _matrix(matrix, rows, cols, short, padding)
        if out.measure(table, options=unbounded).maximum <= out.width:
            out.print(Text(TITLE, style="bold"))
            out.print(table)
            _legend([(short(c), NONE_MEANING if c == none else name(c)) for c in cols], out)
            return
    _as_list(matrix, rows, cols, name, out, none)


def _matrix(
    matrix: Matrix,
    rows: list[str],
    cols: list[str],
    short: Callable[[str], str],
    padding: tuple[int, ...],
) -> Table:
    """Counts under short labels; a dot for none, so the diagonal stands out."""
    table = Table(show_edge=False, box=None, padding=padding)
    table.add_column("", no_wrap=True)
    for c in cols:
        table.add_column(short(c), justify="right", no_wrap=True)
    for r in rows:
        counts = matrix[r]
        table.add_row(short(r), *[str(counts[c]) if counts[c] else "·" for c in cols])
    return table


def _legend(pairs: list[tuple[str, str]], out: Console) -> None:
    """Each short label beside its whole name, in as many side-by-side columns as the width allows."""
    if not pairs:
        return
    key = max(cell_len(k) for k, _ in pairs)
    pair = key + 1 + max(cell_len(v) for _, v in pairs)
    across = max(1, min(len(pairs), (out.width + GAP) // (pair + GAP)))
    down = -(-len(pairs) // across)
    grid = Table.grid(padding=(0, 0, 0, 1))  # one space before every cell but the first
    for i in range(across):
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(overflow="fold")
        if i < across - 1:
            grid.add_column(width=GAP - 2)  # with its own and the next cell's space, GAP spaces
    for row in range(down):
        cells: list[str] = []
        for col in range(across):
            k, v = pairs[col * down + row] if col * down + row < len(pairs) else ("", "")
            cells += [k, v] + ([""] if col < across - 1 else [])
        grid.add_row(*cells)
    out.print(grid)


def _as_list(
    matrix: Matrix,
    rows: list[str],
    cols: list[str],
    name: Callable[[str], str],
    out: Console,
    none: str,
) -> None:
    """One line per expected diagnosis, ``Aplastic anaemia: 10 → Aplastic anaemia``, commonest first."""
    out.print(Text("Confusion (expected: count → top-1; too narrow for the matrix)", style="bold"))
    for r in rows:
        counts = matrix[r]
        order = sorted((c for c in cols if counts[c]), key=lambda c: (-counts[c], cols.index(c)))
        got = ", ".join(f"{counts[c]} → {'nothing fits' if c == none else name(c)}" for c in order)
        out.print(f"  {name(r)}: {got}")
