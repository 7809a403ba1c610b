"""Tiny numpy drawings for the demos' images (no matplotlib): a scatter plot and a grid of digits."""

from __future__ import annotations

import numpy as np

_WHITE, _GREY, _BLACK = (255, 255, 255), (190, 190, 190), (60, 60, 60)
_DOT = (31, 119, 180)  # matplotlib's first colour, so the plot looks familiar
_MARGIN = 12  # pixels around the plotting area


def scatter(x: np.ndarray, y: np.ndarray, *, width: int = 360, height: int = 240, hline: float | None = 0.0) -> np.ndarray:
    """An RGB uint8 image (height, width, 3): points (x, y) in a frame, with a horizontal line at `hline`."""
    image = np.full((height, width, 3), _WHITE, dtype=np.uint8)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    left, top, right, bottom = _MARGIN, _MARGIN, width - _MARGIN - 1, height - _MARGIN - 1

    def to_pixels(values: np.ndarray, lo: float, hi: float, start: int, stop: int) -> np.ndarray:
        span = hi - lo if hi != lo else 1.0
        return np.round(start + (values - lo) / span * (stop - start)).astype(int)

    xs_lo, xs_hi = _padded(x)
    ys_lo, ys_hi = _padded(y if hline is None else np.append(y, hline))
    if hline is not None:
        row = int(to_pixels(np.array([hline]), ys_hi, ys_lo, top, bottom)[0])  # y grows downwards
        image[row, left : right + 1] = _GREY
    cols = to_pixels(x, xs_lo, xs_hi, left, right)
    rows = to_pixels(y, ys_hi, ys_lo, top, bottom)
    for dr in (-1, 0, 1):  # 3x3 dots
        for dc in (-1, 0, 1):
            image[np.clip(rows + dr, 0, height - 1), np.clip(cols + dc, 0, width - 1)] = _DOT
    image[top - 2, left - 2 : right + 3] = _BLACK
    image[bottom + 2, left - 2 : right + 3] = _BLACK
    image[top - 2 : bottom + 3, left - 2] = _BLACK
    image[top - 2 : bottom + 3, right + 2] = _BLACK
    return image


def _padded(values: np.ndarray) -> tuple[float, float]:
    """The range of `values` widened by 4% on each side, so no dot sits on the frame."""
    if not values.size:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.04 or 1.0
    return lo - pad, hi + pad


def digit_grid(images: np.ndarray, *, columns: int = 10, scale: int = 4, gap: int = 2) -> np.ndarray:
    """A grayscale uint8 image of 8x8 digits (values 0..16) in rows of `columns`, dark ink on white."""
    images = np.asarray(images, dtype=np.float64).reshape(-1, 8, 8)
    rows = -(-len(images) // columns)
    cell = 8 * scale + gap
    grid = np.full((rows * cell + gap, columns * cell + gap), 255, dtype=np.uint8)
    for i, digit in enumerate(images):
        big = np.kron(255 - np.clip(digit, 0, 16) * (255 / 16), np.ones((scale, scale)))
        r, c = divmod(i, columns)
        grid[gap + r * cell : gap + r * cell + 8 * scale, gap + c * cell : gap + c * cell + 8 * scale] = big.astype(np.uint8)
    return grid
