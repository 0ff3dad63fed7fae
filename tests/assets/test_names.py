"""The names people give their files: an upload's title from its file name, and download-name stems."""

import pytest

from intaglio.assets.names import STEM_MAX, TITLE_MAX, file_stem, title_clean, title_from_file_name


@pytest.mark.parametrize(
    ("file_name", "title"),
    [
        ("my-dog.jpg", "my-dog"),
        ("C:\\Users\\ann\\Pictures\\my-dog.JPEG", "my-dog"),
        ("/home/ann/holiday 2024/Rex on the beach.png", "Rex on the beach"),
        ("Mr. Smith", "Mr. Smith"),  # ". Smith" is not an extension
        ("archive.tar.gz", "archive.tar"),
        ("  two\tspaces\n here .webp", "two spaces here"),
        ("\u202eevil\u202c.jpg", "evil"),  # direction overrides would reverse the name on screen
        ("Zoë et Zoé.heic", "Zoë et Zoé"),
        (".jpg", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_an_uploads_title_is_its_file_name_without_folders_extension_or_control_characters(file_name, title):
    assert title_from_file_name(file_name) == title


def test_titles_are_cut_to_the_column_and_renames_are_cleaned_the_same_way():
    assert len(title_from_file_name("a" * 300 + ".jpg")) == TITLE_MAX
    assert title_clean("  Rex,\x00 2024  ") == "Rex, 2024"
    assert title_clean("\u200b\u2066") == ""


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        ("my-dog", "my-dog"),
        ("My dog, 2025", "my-dog-2025"),
        ("Zoë et Zoé", "zoë-et-zoé"),
        ("***", "photo"),
        ("", "photo"),
    ],
)
def test_download_names_start_with_a_stem_of_the_title(title, stem):
    assert file_stem(title) == stem


def test_a_stem_leaves_room_for_the_rest_of_a_download_name():
    assert len(file_stem("word " * 100)) <= STEM_MAX and not file_stem("word " * 100).endswith("-")
