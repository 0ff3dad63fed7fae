"""The names people give their files: an upload's title (its file name, cleaned) and the stems of download names.

A title is personal data (people name files after people and places): it is shown to its owner, exported with the
file and erased with it, and never logged.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.text import slugify

TITLE_MAX = 120
# Download names are built as "<stem>-<what>-<size>-<mode>.<ext>" in 120 characters; the stem gets at most this.
STEM_MAX = 60
# A file name's extension: a dot, then 1–5 letters or digits at the end ("my-dog.jpeg", not "Mr. Smith").
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def title_from_file_name(file_name: str | None) -> str:
    """The title an uploaded file's name gives it: without folders or extension, control characters or runs of
    spaces, at most TITLE_MAX characters; empty when nothing readable is left.

    Parameters
    ----------
    file_name : str or None
        The name the browser or client sent (may carry a Windows or POSIX path).

    Returns
    -------
    str
        e.g. "my-dog" for "C:\\Users\\ann\\my-dog.jpg".
    """
    name = re.split(r"[\\/]", file_name or "")[-1]
    return title_clean(_EXTENSION.sub("", name))


def _cleaned_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc" or category.startswith("Z"):
        return " "  # tabs, line breaks, odd spaces
    if category.startswith("C") and char != "\u200d":  # format, private and unassigned: direction overrides and the
        return ""  # like; the zero-width joiner stays, as emoji are built with it
    return char


def title_clean(title: str | None) -> str:
    """A title as typed (a rename): control characters and runs of spaces removed, at most TITLE_MAX characters."""
    text = "".join(_cleaned_char(char) for char in unicodedata.normalize("NFC", title or ""))
    return " ".join(text.split())[:TITLE_MAX].strip()


def file_stem(title: str | None, *, fallback: str = "photo") -> str:
    """The start of a download name made from a title: lower case, hyphens for spaces, no punctuation ("My dog,
    2025" → "my-dog-2025"); `fallback` when nothing is left."""
    stem = slugify(title or "", allow_unicode=True)[:STEM_MAX].strip("-_")
    return stem or fallback
