"""Text normalisation before scanning, so trivial obfuscation does not bypass scanners.

Unicode NFKC (full-width and styled letters become plain ones), zero-width and other
invisible format characters removed, common Cyrillic/Greek homoglyphs folded to Latin,
lone surrogates replaced. Scanners see the normalised text; ``Normalised.to_original``
maps their spans back, so redaction edits the text the user actually sent.

ASCII text (the common case) is returned as is at the cost of one ``isascii()``; runs
of non-ASCII characters that are already NFKC and hold nothing to fold are copied
whole, so only the rare odd characters pay a per-character cost.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Invisible characters used to split words ("pass\u200bword"): zero-width space/joiners,
# word joiner, soft hyphen, BOM, Mongolian vowel separator, bidi controls and tags.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068"
    "\u2069\u3164\ufeff\uffa0"
)
# Letters that look like Latin ones and that NFKC leaves alone (Cyrillic, Greek, a few
# others), written as escapes so the source itself holds no look-alikes.
_HOMOGLYPHS = {
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u043a": "k", "\u043c": "m",
    "\u043d": "h", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0442": "t", "\u0443": "y",
    "\u0445": "x", "\u0455": "s", "\u0456": "i", "\u0457": "i", "\u0458": "j", "\u0501": "d",
    "\u051b": "q", "\u051d": "w", "\u04bb": "h", "\u04cf": "l", "\u0410": "A", "\u0412": "B",
    "\u0415": "E", "\u041a": "K", "\u041c": "M", "\u041d": "H", "\u041e": "O", "\u0420": "P",
    "\u0421": "C", "\u0422": "T", "\u0423": "Y", "\u0425": "X", "\u0405": "S", "\u0406": "I",
    "\u0408": "J", "\u03b1": "a", "\u03b2": "b", "\u03b5": "e", "\u03b9": "i", "\u03ba": "k",
    "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x",
    "\u03b3": "y", "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H",
    "\u0399": "I", "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P",
    "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X", "\u0131": "i", "\u2113": "l", "\ua4f2": "I",
    "\ua4f3": "O",
}  # fmt: skip
_FOLD = str.maketrans(_HOMOGLYPHS)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_NEEDS_WORK = re.compile("[" + re.escape(_INVISIBLE + "".join(_HOMOGLYPHS)) + "\ud800-\udfff]")
_INVISIBLE_SET = frozenset(_INVISIBLE)
_LENGTH_CHANGING = re.compile("[" + re.escape(_INVISIBLE) + "\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    # Original index of each normalised character, plus one final entry for the end;
    # None when the text is unchanged.
    origin: list[int] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        if end <= start:
            return self.origin[start], self.origin[start]
        # The end is just after the original character that produced the last one.
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    if text.isascii():
        return Normalised(text)
    pieces: list[str] = []
    origin: list[int] = []
    position = 0
    for run in _NON_ASCII_RUN.finditer(text):
        if run.start() > position:
            pieces.append(text[position : run.start()])
            origin.extend(range(position, run.start()))
        chunk = run.group()
        if not _LENGTH_CHANGING.search(chunk):
            # Homoglyph folding is one-to-one: when NFKC then changes nothing, the run
            # keeps its length and needs no per-character work.
            chunk = chunk.translate(_FOLD)
        if not _NEEDS_WORK.search(chunk) and unicodedata.is_normalized("NFKC", chunk):
            pieces.append(chunk)
            origin.extend(range(run.start(), run.end()))
        else:
            _fold_run(chunk, run.start(), pieces, origin)
        position = run.end()
    if position < len(text):
        pieces.append(text[position:])
        origin.extend(range(position, len(text)))
    origin.append(len(text))
    return Normalised("".join(pieces), origin)


def _fold_run(chunk: str, offset: int, pieces: list[str], origin: list[int]) -> None:
    for index, char in enumerate(chunk, offset):
        if char in _INVISIBLE_SET:
            continue
        if "\ud800" <= char <= "\udfff":
            folded = "\ufffd"  # a lone surrogate: invalid Unicode from a JSON escape
        else:
            folded = unicodedata.normalize("NFKC", char).translate(_FOLD)
            # NFKC may produce characters that are themselves invisible (rare).
            folded = "".join(c for c in folded if c not in _INVISIBLE_SET)
        if folded:
            pieces.append(folded)
            origin.extend([index] * len(folded))
