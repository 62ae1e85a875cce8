"""Every tuning constant of segmentation, with where its value came from.

Origins, by the commit that set the value (`git log -G "^NAME = "`):
- "first cut" (0030a66, segmentation's first commit): chosen by hand while writing it against
  drawn numbers of MNIST test digits (`digits.numbers`); that commit records no tuning run or seeds.
- "seeds 1-2" (a4e8397): tuned on `python -m digits.numbers --count 1000 --seed 1` and `--seed 2`;
  seed 0 stayed held out.
- "seeds 1-3" (e9a04f5, with the detector of touching digits): tuned on seeds 1-3 of
  `digits.numbers`; seed 0 stayed held out.
- "MNIST": read off MNIST's training set.
"""

from __future__ import annotations

import numpy as np

# Grouping strokes into digits (`digits.segment.grouping`).
SPECK_SIDE_FRACTION = 0.1  # first cut: a component whose longest side is under this share of the tallest is noise
OVERLAP_FRACTION = 0.5  # first cut: components sharing this share of the narrower one's columns are one digit
PART_FRACTION = 0.75  # first cut: a component shorter than this share of the tallest may be part of a digit...
NEAR_FRACTION = 0.2  # first cut: ...and joins the nearest taller one when closer than this share of the tallest
STRAY_FRACTION = 1 / 3  # first cut: a stroke this small (share of the tallest) that joined no digit is a stray mark
MAX_COMPONENTS = 512  # first cut: more candidate strokes than this is a scribble, not a number

# Cutting groups (`digits.segment.cutting`).
SPLIT_RATIO = 1.45  # first cut: width/height above which, without a classifier, a piece is taken for touching digits
DIGIT_RATIO = 0.75  # MNIST (median width/height): sets how many digits touch when cutting without a classifier
MIN_PIECE_FRACTION = 0.06  # first cut: narrowest piece a cut may leave, as a share of the height
MIN_PIECE_HEIGHT = 0.7  # first cut: a piece shorter than this share of its group's (or digits') height is a fragment
MIN_PIECE_PENS = 0.8  # seeds 1-2: a piece narrower than this share of the pen width is a slice of a stroke, not a 1
CUT_STEP_FRACTION = 0.12  # first cut: candidate cuts are the thinnest column in each step of this share of the height
THINNING_LEVELS = (0.3, 0.5, 0.7)  # first cut: stronger ink levels tried when looking for touching digits' cores
SEAM_ROWS = 32  # seeds 1-2: seams are found on a grid about this many rows high
SEAM_BAND = 0.1  # seeds 1-2: a seam strays at most this share of the height from its centre column...
SEAM_BEND = 2.0  # seeds 1-2: ...and steps sideways only to spare more than this many pixels of ink per step

# Scoring readings (`digits.segment.scoring`).
CONSIDER_RATIO = 0.8  # first cut: with a classifier, groups wider than this are also read as their thinned parts
MAX_DIGIT_RATIO = 1.7  # first cut (MNIST's widest are about 1.5): no lone digit is wider, unless a detector says so
SPLIT_COST = 0.15  # first cut: log-odds a cut must win by (confident classifiers read fragments confidently too)...
THICK_COST = 0.2  # seeds 1-2 (0.1 at first): ...and more per pen width of ink the cut crosses beyond one
# MNIST: width/height of each digit class in the training set, 1st and 99th percentiles (but a 1
# drawn as one thin pen stroke may be narrower than MNIST's): a piece read as a 4 but shaped like a
# sliver is a fragment. Outside its range a reading loses ASPECT_COST (first cut) per unit of log ratio.
ASPECT_RANGE = np.array(
    [(0.55, 1.43), (0.05, 1.0), (0.6, 1.67), (0.5, 1.25), (0.5, 1.25), (0.5, 1.67), (0.45, 1.11), (0.5, 1.25),
     (0.45, 1.25), (0.4, 1.05)]
)  # fmt: skip
ASPECT_COST = 6.0
WIDEST_DIGIT = 1.4  # seeds 1-2: no digit is wider than this share of the height of the number's other digits...
WIDE_COST = 2.0  # seeds 1-2: ...and a piece that is loses this much plausibility per unit of log ratio beyond it
THINNED_BONUS = 0.5  # first cut: log-odds by which parts of thinned ink may read worse than the whole and still win
TOUCHING_WEIGHT = 0.5  # seeds 1-3: how much the touching-digits detector's log probabilities count
MIN_PROBABILITY = 1e-4  # seeds 1-3: the detector's answers are clipped to this much doubt
