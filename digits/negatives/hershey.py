"""Letters and symbols from the single-stroke Hershey vector fonts (the `hershey-fonts` package):
Roman, script, Greek, Cyrillic, Gothic, Japanese and symbol sets, drawn as pen strokes.

A glyph that a person would read as a digit is not a negative. Two filters decide, documented in
docs/not_a_digit.md: characters whose shape is a digit's in most fonts (`DIGIT_LIKE_KEYS`, plus
`GREEK_LIKE_KEYS` in the Greek and Cyrillic sets, whose keys map to other letters), and three
geometric rules for glyphs of the symbol sets whose keys mean nothing (`looks_like_a_digit`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from digits.negatives.pen import Stroke, draw_strokes

FONTS = (
    "futural", "futuram", "rowmans",  # Roman
    "scripts", "scriptc", "cursive",  # script
    "greek", "greeks",  # Greek
    "cyrillic",  # Cyrillic
    "gothiceng", "gothicger", "gothicita",  # Gothic
    "japanese",  # kana and kanji
    "symbolic", "markers", "mathlow", "mathupp", "astrology", "meteorology", "music",  # symbols
)  # fmt: skip
DIGIT_LIKE_KEYS = frozenset(
    "0123456789"  # the digits themselves
    "OoDQ"  # 0
    "IlijJ|!/\\()[]{}'`,.:;"  # 1, or a bare bar, dot or bracket
    "Zz"  # 2
    "Ss"  # 5
    "Gb"  # 6
    "T"  # 7
    "B"  # 8
    "gqP"  # 9
    "LYy"  # 4 as some people write it
    " "
)
GREEK_LIKE_KEYS = frozenset("edrxCcEZ")  # epsilon ~ 3, delta ~ 6, rho ~ 9, xi ~ 3; Cyrillic E and Ze ~ 3
FOREIGN_FONTS = frozenset({"greek", "greeks", "cyrillic"})
ROUND_LOOP = 0.85  # isoperimetric quotient above which one closed stroke is an ellipse: a 0
STRAIGHT = 0.08  # largest deviation from the chord, as a share of its length, of a straight stroke
FLAT_DEGREES = 35.0  # a straight stroke steeper than this is a 1 (the doodles' dash stays below)
NARROW = 0.45  # one open stroke narrower than this share of its height is a 1 (an arc, a bracket)


@functools.lru_cache(maxsize=1)
def glyphs() -> tuple[tuple[str, str, tuple[Stroke, ...]], ...]:
    """Every usable (font, key, strokes) in the fonts, strokes in font units with y down."""
    from HersheyFonts import HersheyFonts

    found = []
    for font in FONTS:
        reader = HersheyFonts()
        reader.load_default_font(font)
        for key in sorted(reader.all_glyphs):
            if key in DIGIT_LIKE_KEYS or (font in FOREIGN_FONTS and key in GREEK_LIKE_KEYS):
                continue
            strokes = tuple(
                [(float(x), float(y)) for x, y in stroke] for stroke in reader.strokes_for_text(key) if len(stroke) > 1
            )
            if strokes and not looks_like_a_digit(list(strokes)):
                found.append((font, key, strokes))
    return tuple(found)


def looks_like_a_digit(strokes: list[Stroke]) -> bool:
    """True for a round closed loop (a 0), a straight stroke steeper than `FLAT_DEGREES` or one
    narrow open curve (a 1), and a glyph too small to be drawn as more than a dot."""
    points = np.array([p for stroke in strokes for p in stroke])
    extent = points.max(axis=0) - points.min(axis=0)
    if extent.max() < 3:  # font units: a dot
        return True
    if len(strokes) != 1:
        return False
    stroke = np.asarray(strokes[0])
    closed = np.hypot(*(stroke[0] - stroke[-1])) < 0.1 * extent.max()
    if closed:
        x, y = stroke[:, 0], stroke[:, 1]
        area = 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
        perimeter = float(np.hypot(*np.diff(stroke, axis=0).T).sum())
        return 4 * math.pi * area / max(perimeter**2, 1e-9) > ROUND_LOOP
    chord = stroke[-1] - stroke[0]
    length = float(np.hypot(*chord))
    if length > 0:
        offsets = stroke - stroke[0]
        deviation = np.abs(offsets[:, 0] * chord[1] - offsets[:, 1] * chord[0]) / length
        if deviation.max() <= STRAIGHT * length:
            return abs(math.degrees(math.atan2(abs(chord[1]), abs(chord[0])))) > FLAT_DEGREES
    return bool(extent[0] < NARROW * extent[1])


def draw(rng: np.random.Generator) -> bytes:
    """One glyph of a random font, drawn with the pen: PNG bytes."""
    table = glyphs()
    _, _, strokes = table[int(rng.integers(len(table)))]
    return draw_strokes([list(stroke) for stroke in strokes], rng)
