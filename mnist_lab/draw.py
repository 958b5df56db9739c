"""The drawing pad of notebook 12c: strokes drawn in the browser, turned into an MNIST digit in Python (notebook 12b
reads built-in drawings with it too).

The pad (an ``anywidget``: no front-end build, its JavaScript ships beside this module in ``draw.js``; tested in
JupyterLab, and anywidget also supports VS Code and Colab) only records strokes, lists of ``(x, y)`` points
on a ``CANVAS``-pixel square. Python rasterizes them with steps modelled on MNIST's (notebook 12 writes each
step by hand, and says where ours differ from MNIST's):

1. the bounding box of the digit's ink,
2. fitted in a 20×20 box, keeping its aspect ratio, and anti-aliased: drawn 8× finer and averaged down, which
   gives grey edges (``fit_in_box``),
3. moved by whole pixels so that its centre of mass is at index 14 of the 28×28 field (``center_by_mass``).

``shrink_canvas`` is what reading the pad's pixels and resizing them would give instead.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from pathlib import Path

import anywidget
import ipywidgets
import numpy as np
import torch
import traitlets
from torch import nn

CANVAS = 280  #: side of the drawing pad, in canvas pixels
PEN = 18.0  #: pen width on the pad, in canvas pixels
BOX, FIELD = 20, 28  #: MNIST: the digit fits a 20×20 box, centred by mass in a 28×28 field
INK = 2.2  #: pen width in the 28×28 image, in pixels (notebook 12 prints it)

Stroke = Sequence[Sequence[float]]


def _render(strokes: Sequence[Stroke], scale: float, shift: tuple, shape: tuple, width: float, supersample=8):
    """Return strokes drawn as round-capped lines, anti-aliased: ``(h, w)`` floats in [0, 1].

    A point ``(x, y)`` lands at ``((x + shift[0]) * scale, (y + shift[1]) * scale)`` output pixels;
    the lines are drawn ``supersample`` times finer and averaged down.
    """
    from PIL import Image, ImageDraw

    s = supersample
    h, w = shape
    img = Image.new("L", (w * s, h * s), 0)
    pen = ImageDraw.Draw(img)
    r = width * s / 2
    for stroke in strokes:
        pts = [((x + shift[0]) * scale * s, (y + shift[1]) * scale * s) for x, y in stroke]
        if len(pts) > 1:
            pen.line(pts, fill=255, width=max(1, round(2 * r)))
        for x, y in pts:  # round caps and joins
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    big = np.asarray(img, dtype=np.float32) / 255.0
    return big.reshape(h, s, w, s).mean(axis=(1, 3))


def bounding_box(strokes: Sequence[Stroke]) -> tuple[float, float, float, float]:
    """Return ``(x0, y0, x1, y1)``, the smallest rectangle holding every point of ``strokes``."""
    pts = np.array([p for s in strokes for p in s], dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("There is nothing drawn: give at least one stroke with one point.")
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def fit_in_box(strokes: Sequence[Stroke], box: int = BOX, ink: float = INK) -> np.ndarray:
    """Return the digit scaled so its ink fits a ``box``-pixel square, aspect ratio kept: ``(h, w)``,
    the longer side ``box``, anti-aliased values in [0, 1]."""
    x0, y0, x1, y1 = bounding_box(strokes)
    longest = max(x1 - x0, y1 - y0)
    scale = (box - ink) / longest if longest > 0 else 1.0  # the pen adds ink/2 on each side
    h, w = (max(1, math.ceil((extent * scale + ink) - 1e-6)) for extent in (y1 - y0, x1 - x0))
    # centre the drawing in its (h, w) box: the ink spans extent*scale + ink pixels
    dx = (w - (x1 - x0) * scale) / 2 / scale - x0
    dy = (h - (y1 - y0) * scale) / 2 / scale - y0
    return _render(strokes, scale, (dx, dy), (h, w), ink)


def center_of_mass(image: np.ndarray | torch.Tensor) -> tuple[float, float]:
    """Return the ``(row, column)`` centre of mass of an image's intensities, in pixel indices."""
    img = np.asarray(image, dtype=np.float64)
    total = img.sum()
    if total == 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    rows, cols = np.indices(img.shape)
    return float((rows * img).sum() / total), float((cols * img).sum() / total)


def center_by_mass(digit: np.ndarray, field: int = FIELD) -> np.ndarray:
    """Return ``digit`` pasted in a ``field``×``field`` image, moved (whole pixels) so its centre of
    mass is nearest index ``field // 2`` on both axes: 14 for MNIST, where MNIST's digits sit (measured:
    the mean centre of mass of the 60,000 training digits is row 13.996, column 14.007)."""
    h, w = digit.shape
    cy, cx = center_of_mass(digit)
    top = int(np.clip(round(field // 2 - cy), 0, field - h))
    left = int(np.clip(round(field // 2 - cx), 0, field - w))
    out = np.zeros((field, field), dtype=np.float32)
    out[top : top + h, left : left + w] = digit
    return out


def rasterize_strokes(strokes: Sequence[Stroke]) -> torch.Tensor:
    """Return the strokes as a 28×28 MNIST-style digit, float in [0, 1]: fitted in 20×20 with its
    aspect ratio, anti-aliased, centre of mass at index 14 (the steps of notebook 12)."""
    return torch.from_numpy(center_by_mass(fit_in_box(strokes)))


def shrink_canvas(strokes: Sequence[Stroke], canvas: int = CANVAS, pen: float = PEN) -> torch.Tensor:
    """Return the whole pad shrunk to 28×28 (what resizing the pad's pixels gives): no box, no centring."""
    scale = FIELD / canvas
    return torch.from_numpy(_render(strokes, scale, (0.0, 0.0), (FIELD, FIELD), pen * scale))


def pad_image(strokes: Sequence[Stroke], size: int = CANVAS, pen: float = PEN) -> np.ndarray:
    """Return the drawing as the pad shows it: ``(size, size)`` floats, ink 1 on 0 (notebook 12a shows one)."""
    return _render(strokes, 1.0, (0.0, 0.0), (size, size), pen, supersample=1)


@torch.no_grad()
def predict_proba(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    """Return the 10 class probabilities ``model`` gives one 28×28 image (on the model's device)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.softmax(model(image.reshape(1, 1, FIELD, FIELD).to(device)), dim=1)[0].cpu()


# --------------------------------------------------------------------------- example drawings


def _polyline(*points: tuple[float, float]) -> list[list[float]]:
    """Return a stroke through ``points``, with extra points every 0.05 (a mouse sends many)."""
    out: list[list[float]] = []
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        n = max(1, math.ceil(math.hypot(bx - ax, by - ay) / 0.05))
        out += [[ax + (bx - ax) * i / n, ay + (by - ay) * i / n] for i in range(n)]
    out.append(list(points[-1]))
    return out


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24) -> list[tuple]:
    """Return ``n + 1`` points of an elliptic arc from angle ``start`` to ``stop`` (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in map(math.radians, np.linspace(start, stop, n + 1))]


#: Digits drawn in a unit square (x right, y down), one list of strokes each, as a person draws them.
UNIT_DIGITS: dict[int, list[list[list[float]]]] = {
    0: [_polyline(*_arc(0.5, 0.5, 0.36, 0.5, -90, 275))],
    1: [_polyline((0.58, 0.0), (0.45, 1.0))],
    2: [_polyline(*_arc(0.5, 0.3, 0.38, 0.3, 190, 380, 12), (0.08, 1.0), (0.95, 0.98))],
    3: [
        _polyline(
            *_arc(0.5, 0.25, 0.38, 0.25, 200, 450, 12)[:-1], (0.45, 0.5), *_arc(0.5, 0.75, 0.42, 0.25, -90, 160, 12)
        )
    ],  # noqa: E501
    4: [_polyline((0.2, 0.0), (0.08, 0.62), (0.95, 0.62)), _polyline((0.72, 0.1), (0.68, 1.0))],
    5: [_polyline((0.9, 0.0), (0.22, 0.0), (0.15, 0.45), *_arc(0.5, 0.7, 0.4, 0.3, -120, 160, 14))],
    6: [_polyline((0.8, 0.0), (0.45, 0.2), (0.2, 0.55), *_arc(0.5, 0.72, 0.32, 0.28, 180, 540, 20))],
    7: [_polyline((0.05, 0.05), (0.95, 0.05), (0.45, 1.0))],
    8: [_polyline(*[(0.5 + 0.3 * math.sin(2 * t), 0.5 - 0.5 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 40)])],
    9: [_polyline(*_arc(0.45, 0.27, 0.32, 0.27, 0, 360, 20), (0.77, 0.27), (0.7, 1.0))],
}

#: Where each example sits on the pad, ``(left, top, height)`` in canvas pixels: smaller than
#: the pad and off-centre, as people draw.
LEFT, TOP = [40, 150, 30, 120, 60, 140, 20, 100, 50, 160], [30, 40, 120, 110, 60, 20, 20, 140, 90, 100]
HEIGHT = [120, 140, 130, 150, 110, 160, 150, 120, 170, 110]


def example_strokes(digit: int) -> list[list[list[float]]]:
    """Return a built-in drawing of ``digit`` on the pad (canvas pixels), off-centre and smaller than the pad."""
    left, top, height = LEFT[digit], TOP[digit], HEIGHT[digit]
    place = lambda x, y: [round(left + x * (0.7 * height), 1), round(top + y * height, 1)]  # noqa: E731
    return [[place(x, y) for x, y in stroke] for stroke in UNIT_DIGITS[digit]]


# --------------------------------------------------------------------------- the widget (its view: draw.js, draw.css)


def _png(image: np.ndarray) -> bytes:
    """Return a grey image (floats in [0, 1], ink 1) as PNG bytes, ink dark on white."""
    from PIL import Image

    arr = 1 - np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    buf = io.BytesIO()
    Image.fromarray((arr * 255).round().astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


class DrawingPad(anywidget.AnyWidget):
    """A square pad to draw on with a mouse, pen or finger, with Clear and Undo.

    ``strokes`` (synced with the browser when a stroke ends) is a list of strokes, each a
    list of ``[x, y]`` canvas pixels. Setting it from Python redraws the pad.
    """

    _esm = Path(__file__).with_name("draw.js")  # the view in the browser: records and draws the strokes
    _css = Path(__file__).with_name("draw.css")
    strokes = traitlets.List(traitlets.List(traitlets.List(traitlets.Float()))).tag(sync=True)
    size = traitlets.Int(CANVAS).tag(sync=True)
    pen = traitlets.Float(PEN).tag(sync=True)

    def to_png(self) -> bytes:
        """Return the drawing as the pad shows it, as PNG bytes."""
        return _png(pad_image(self.strokes, self.size, self.pen))

    def _repr_mimebundle_(self, **kwargs):
        """The widget, plus a PNG of the drawing for places that cannot show widgets (a saved notebook)."""
        view = super()._repr_mimebundle_
        return _with_fallback(lambda: view(**kwargs), self.to_png(), f"DrawingPad with {len(self.strokes)} strokes")


def _with_fallback(view, png: bytes, text: str):
    """Return the widget's mime bundle (``view()``) with a PNG and a short text beside it, in one output: JupyterLab,
    Colab and VS Code show the live widget, and what cannot show widgets (GitHub, the site, a saved notebook read
    elsewhere) shows the picture."""
    bundle = view()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    data.update({"image/png": base64.b64encode(png).decode(), "text/plain": text})
    return bundle


def _bars_html(title: str, probs: torch.Tensor, key: str, strokes: int) -> str:
    """Return one model's probabilities as ten horizontal bars (HTML), its guess in the title."""
    guess, bar = (
        int(probs.argmax()),
        '<div class="mnist-lab-bar">{}&nbsp;<i class="{}" style="width:{:.0f}px"></i>{:.0%}</div>',
    )
    rows = "".join(bar.format(d, "guess" * (d == guess), p * 120, p) for d, p in enumerate(probs.tolist()))
    data = f'data-key="{key}" data-digit="{guess}" data-strokes="{strokes}"'
    return f'<div class="mnist-lab-reading" {data}><b>{title}: {guess}</b>{rows}</div>'


class DigitReader:
    """A drawing pad beside what the models read: the 28×28 images and each model's probabilities.

    ``models`` maps a name ("MLP") to a trained model. After every stroke (or when ``pad.strokes``
    is set from Python) ``images`` and ``probs`` are updated and shown as bars; ``probs`` is keyed
    ``(model name, "mnist" | "shrunk")``.
    """

    VARIANTS = {"mnist": "our steps", "shrunk": "pad shrunk to 28×28"}

    def __init__(self, models: dict[str, nn.Module], strokes: list | None = None) -> None:
        self.models = models
        self.pad = DrawingPad(strokes=strokes or [])
        self.panel = ipywidgets.HTML()
        self.widget = ipywidgets.HBox([self.pad, self.panel])
        self.images: dict[str, torch.Tensor] = {}
        self.probs: dict[tuple[str, str], torch.Tensor] = {}
        self.pad.observe(self.update, names="strokes")
        self.update()

    def guesses(self, variant: str = "mnist") -> dict[str, int]:
        """Return each model's digit for the current drawing (``{}`` when the pad is empty)."""
        return {name: int(self.probs[name, variant].argmax()) for name in self.models if (name, variant) in self.probs}

    def update(self, change: dict | None = None) -> None:
        """Rasterize the pad's strokes both ways, run every model, and redraw the panel."""
        strokes = [s for s in self.pad.strokes if s]
        if not strokes:
            self.images, self.probs = {}, {}
            self.panel.value = '<div class="mnist-lab-empty">Draw a digit on the pad.</div>'
            return
        self.images = {
            "mnist": rasterize_strokes(strokes),
            "shrunk": shrink_canvas(strokes, self.pad.size, self.pad.pen),
        }
        self.probs = {
            (name, v): predict_proba(m, img) for name, m in self.models.items() for v, img in self.images.items()
        }
        self.panel.value = self._panel_html(len(strokes))

    def _panel_html(self, n_strokes: int) -> str:
        """Return the panel: for each way of making the 28×28 image, the image and every model's bars."""
        columns = []
        for v, img in self.images.items():
            src = "data:image/png;base64," + base64.b64encode(_png(img)).decode()
            bars = "".join(
                _bars_html(f"{name} reads", self.probs[name, v], f"{name}-{v}", n_strokes) for name in self.models
            )
            image = f'<img class="mnist-lab-digit" src="{src}" width="84" height="84">'
            columns.append(
                f'<div class="mnist-lab-variant"><div>{self.VARIANTS[v]}</div><div>{image}{bars}</div></div>'
            )
        return "".join(columns)

    def _repr_mimebundle_(self, **kwargs):
        """Show the pad and the panel side by side (a PNG of the drawing where widgets cannot show)."""
        view = lambda: self.widget._repr_mimebundle_(**kwargs)  # noqa: E731
        return _with_fallback(view, self.pad.to_png(), "DigitReader: a drawing pad and what the models read")
