"""The analysis contract: what every analysis provider says about a set of reference images. One validated shape
for the local analyser and the remote provider's strict JSON schema; the jewellery studio's confirm-and-edit form
and prompt templates take it from here."""

from __future__ import annotations

from typing import Literal

import pydantic

from intaglio.imaging.jewellery import vocabulary

PieceType = Literal[vocabulary.PIECE_TYPES + (vocabulary.UNKNOWN,)]  # type: ignore[valid-type]
Metal = Literal[vocabulary.METALS + (vocabulary.UNKNOWN,)]  # type: ignore[valid-type]
StoneColour = Literal[vocabulary.STONE_COLOURS + (vocabulary.UNKNOWN,)]  # type: ignore[valid-type]
StoneCut = Literal[vocabulary.STONE_CUTS + (vocabulary.UNKNOWN,)]  # type: ignore[valid-type]
Finish = Literal[vocabulary.FINISHES + (vocabulary.UNKNOWN,)]  # type: ignore[valid-type]
ShotType = Literal[vocabulary.SHOT_TYPES + (vocabulary.UNKNOWN,)]  # type: ignore[valid-type]

Confidence = pydantic.confloat(ge=0.0, le=1.0, allow_inf_nan=False)


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class TypeGuess(_Strict):
    value: PieceType
    confidence: Confidence


class MetalGuess(_Strict):
    value: Metal
    confidence: Confidence


class FinishGuess(_Strict):
    value: Finish
    confidence: Confidence


class ShotGuess(_Strict):
    value: ShotType
    confidence: Confidence


class StoneGroup(_Strict):
    """Stones of one colour and cut; `count` is a rough count (0 when unsure how many)."""

    colour: StoneColour
    count: pydantic.conint(ge=0, le=500)
    cut: StoneCut
    confidence: Confidence


class Attributes(_Strict):
    type: TypeGuess
    metal: MetalGuess
    # An empty list means "no stones seen"; stones_confidence says how sure that list is, empty or not.
    stones: list[StoneGroup] = pydantic.Field(max_length=6)
    stones_confidence: Confidence
    finish: FinishGuess
    # One per reference image, in upload order.
    shots: list[ShotGuess] = pydantic.Field(min_length=1, max_length=10)
