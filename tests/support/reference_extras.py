"""Independent NumPy references for the metrics beyond brightness: contrast and
percentiles, Laplacian sharpness (via scipy.ndimage), entropy, colorfulness, average,
dominant and edge colours. Written for clarity, not speed."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

LAYOUT_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def rgb_and_opaque(pixels: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(h, w, 3) float64 colours and the (h, w) mask of pixels with non-zero alpha."""
    h, w = pixels.shape[:2]
    flat = pixels.reshape(h, w, LAYOUT_CHANNELS[layout]).astype(np.float64)
    rgb = np.repeat(flat[..., :1], 3, axis=2) if layout in ("L", "LA") else flat[..., :3]
    opaque = flat[..., -1] != 0 if layout in ("LA", "RGBA") else np.ones((h, w), bool)
    return rgb, opaque


def luminance(rgb: np.ndarray) -> np.ndarray:
    return 0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]


def contrast(lum: np.ndarray) -> dict[str, float]:
    p5, p95 = np.percentile(lum, [5, 95])  # NumPy's default: linear interpolation
    return {"contrast_rms": float(lum.std()), "p5": float(p5), "p95": float(p95)}


def sharpness(lum: np.ndarray) -> float:
    """Standard deviation of the 4-neighbour Laplacian over the interior pixels."""
    if lum.shape[0] < 3 or lum.shape[1] < 3:
        return 0.0
    return float(ndimage.laplace(lum)[1:-1, 1:-1].std())


def entropy_bits(lum: np.ndarray) -> float:
    rounded = np.floor(lum * 10000 + 0.5).astype(np.int64)  # exact L x 10000, as integers
    bins = (rounded + 5000) // 10000
    counts = np.bincount(bins.ravel(), minlength=256)
    p = counts[counts > 0] / lum.size
    return float(-(p * np.log2(p)).sum())


def colorfulness(rgb: np.ndarray, opaque: np.ndarray) -> float | None:
    if not opaque.any():
        return None
    r, g, b = (rgb[..., i][opaque] for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def hex_colour(channels: np.ndarray) -> str:
    r, g, b = (int(round(float(c))) for c in channels)  # round half to even, like Python
    return f"#{r:02x}{g:02x}{b:02x}"


def mean_colour(rgb: np.ndarray, mask: np.ndarray) -> str | None:
    if not mask.any():
        return None
    sums = rgb[mask].sum(axis=0)
    return hex_colour(sums / mask.sum())


def edge_colours(rgb: np.ndarray, opaque: np.ndarray) -> dict[str, str | None]:
    """Left, right, top and bottom strips by name, full length, of the contract's thickness."""
    h, w = opaque.shape
    ew, eh = max(1, int(w * 0.1)), max(1, int(h * 0.1))
    strips = {
        "left": (slice(None), slice(0, ew)),
        "right": (slice(None), slice(w - ew, w)),
        "top": (slice(0, eh), slice(None)),
        "bottom": (slice(h - eh, h), slice(None)),
    }
    return {side: mean_colour(rgb[rows, cols], opaque[rows, cols]) for side, (rows, cols) in strips.items()}


def dominant_colours(rgb: np.ndarray, opaque: np.ndarray) -> list[tuple[str, int]]:
    """The documented clustering, written independently: 16 levels per channel; bins taken
    by count (ties: lower index), each joining the first cluster whose seed is at most one
    level away on every channel; clusters by count (ties: seeding order); top five."""
    colours = rgb[opaque].astype(np.int64)
    levels = colours >> 4
    index = levels[:, 0] * 256 + levels[:, 1] * 16 + levels[:, 2]
    bins: dict[int, list[np.ndarray]] = {}
    for i in np.unique(index):
        bins[int(i)] = [colours[index == i]]
    order = sorted(bins, key=lambda i: (-len(bins[i][0]), i))
    clusters: list[tuple[tuple[int, int, int], list[np.ndarray]]] = []
    for i in order:
        seed_levels = (i // 256, (i // 16) % 16, i % 16)
        for seed, members in clusters:
            if all(abs(a - b) <= 1 for a, b in zip(seed, seed_levels, strict=True)):
                members.extend(bins[i])
                break
        else:
            clusters.append((seed_levels, list(bins[i])))
    sized = [(np.concatenate(members), n) for n, (_, members) in enumerate(clusters)]
    sized.sort(key=lambda item: (-len(item[0]), item[1]))
    return [(hex_colour(pix.sum(axis=0) / len(pix)), len(pix)) for pix, _ in sized[:5]]
