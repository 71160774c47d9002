"""Where to put the text of each bubble of a scatter so labels do not overlap.

Plotly places a marker's text at one of nine fixed positions around it and does not
avoid collisions. ``label_positions`` picks, bubble by bubble, the first position
whose label box stays in the plot and clear of the labels already placed and of the
other bubbles, or else the least crowded one: the greedy placement chart tools use
for point labels. Sizes are estimated in pixels of the plot area.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

CHAR_WIDTH = 0.52  # average glyph width of the house sans-serif, in font sizes
LINE_HEIGHT = 1.15  # in font sizes
GAP = 5.0  # pixels Plotly leaves between a bubble and its label
PAD = 3.0  # pixels kept clear around a label
# Preference order: above and below read best, then beside, then the diagonals.
POSITIONS = (
    "top center",
    "bottom center",
    "middle right",
    "middle left",
    "top right",
    "top left",
    "bottom right",
    "bottom left",
)

Box = tuple[float, float, float, float]  # left, bottom, right, top (pixels, y up)


@dataclass(frozen=True)
class Bubble:
    """A marker at (x, y) in data units, ``size`` pixels across, labelled ``text``."""

    x: float
    y: float
    size: float
    text: str


MIN_BUBBLE = 7.0  # pixels: Plotly's ``sizemin`` of the bubble charts


def bubble_size(value: float | None, largest: float, max_px: float) -> float:
    """Pixels across a bubble of area ``value`` when ``largest`` is ``max_px`` across
    (Plotly's ``sizemode="area"`` with ``sizeref = 2 * largest / max_px**2``)."""
    return max(max_px * ((value or 0) / largest) ** 0.5, MIN_BUBBLE)


def _label_box(cx: float, cy: float, r: float, w: float, h: float, position: str) -> Box:
    vertical, horizontal = position.split()
    d = r + GAP
    diag = d * 0.7  # diagonal labels start near the circle, not at its bounding box
    if vertical == "middle":
        bottom = cy - h / 2
        left = cx + d if horizontal == "right" else cx - d - w
        return left, bottom, left + w, bottom + h
    off = d if horizontal == "center" else diag
    bottom = cy + off if vertical == "top" else cy - off - h
    if horizontal == "center":
        left = cx - w / 2
    else:
        left = cx + diag if horizontal == "right" else cx - diag - w
    return left, bottom, left + w, bottom + h


def _overlap(a: Box, b: Box, pad: float = 0.0) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0]) + pad
    height = min(a[3], b[3]) - max(a[1], b[1]) + pad
    return width * height if width > 0 and height > 0 else 0.0


def _outside(box: Box, width: float, height: float) -> float:
    """Area of the box beyond the plot area."""
    inside = _overlap(box, (0.0, 0.0, width, height))
    return (box[2] - box[0]) * (box[3] - box[1]) - inside


def label_positions(
    bubbles: Sequence[Bubble],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    plot_size: tuple[float, float] = (400.0, 300.0),
    font_size: float = 11.0,
    passes: int = 3,
    restarts: int = 12,
) -> list[str]:
    """A Plotly ``textposition`` per bubble (in input order) keeping labels apart.

    Labels are placed one by one, largest bubble first (their labels have the fewest
    free spots), then each moves to its best spot given all the others, for a few
    passes; the same from ``restarts`` seeded orders, keeping the least overlap.
    """
    width, height = plot_size
    sx = width / ((x_range[1] - x_range[0]) or 1.0)
    sy = height / ((y_range[1] - y_range[0]) or 1.0)
    centres = [((b.x - x_range[0]) * sx, (b.y - y_range[0]) * sy, b.size / 2) for b in bubbles]
    circles = [(cx - r, cy - r, cx + r, cy + r) for cx, cy, r in centres]
    sizes = [(len(b.text) * font_size * CHAR_WIDTH, font_size * LINE_HEIGHT) for b in bubbles]

    n = len(bubbles)
    # Every candidate box, and its fixed cost: bubbles it covers and what leaves the plot.
    boxes = [
        [_label_box(cx, cy, r, *sizes[i], p) for p in POSITIONS]
        for i, (cx, cy, r) in enumerate(centres)
    ]
    fixed = [
        [
            3.0 * sum(_overlap(b, c, PAD) for j, c in enumerate(circles) if j != i)
            + 5.0 * _outside(b, width, height)
            + rank * 1e-3  # ties go to the more readable positions
            for rank, b in enumerate(boxes[i])
        ]
        for i in range(n)
    ]
    # Labels can only meet when their bubbles are closer than the labels' reach.
    reach = [(r + GAP + w, r + GAP + h) for (_, _, r), (w, h) in zip(centres, sizes, strict=True)]
    near = [
        [
            j
            for j in range(n)
            if j != i
            and abs(centres[i][0] - centres[j][0]) <= reach[i][0] + reach[j][0] + PAD
            and abs(centres[i][1] - centres[j][1]) <= reach[i][1] + reach[j][1] + PAD
        ]
        for i in range(n)
    ]

    def best(i: int, out: dict[int, int]) -> int:
        others = [boxes[j][out[j]] for j in near[i] if j in out]
        costs = [
            fixed[i][k] + 10.0 * sum(_overlap(b, o, PAD) for o in others)
            for k, b in enumerate(boxes[i])
        ]
        return costs.index(min(costs))

    def place(order: list[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for i in order:
            out[i] = best(i, out)
        for _ in range(passes):
            moved = False
            for i in order:
                mine = out.pop(i)
                out[i] = best(i, out)
                moved |= out[i] != mine
            if not moved:
                break
        return out

    def total(out: dict[int, int]) -> float:
        return sum(
            fixed[i][out[i]]
            + 10.0
            * sum(_overlap(boxes[i][out[i]], boxes[j][out[j]], PAD) for j in near[i] if j > i)
            for i in range(n)
        )

    # Largest bubbles first, then a few seeded shuffles: the greedy result depends on
    # the order, and the best of several is clearly better on crowded maps.
    order = sorted(range(n), key=lambda k: -bubbles[k].size)
    found = place(order)
    lowest = total(found)
    rng = random.Random(0)
    for _ in range(restarts):
        if lowest < 1:  # only the tie-breaks left
            break
        rng.shuffle(order)
        out = place(order)
        if (value := total(out)) < lowest:
            found, lowest = out, value
    return [POSITIONS[found[i]] for i in range(n)]
