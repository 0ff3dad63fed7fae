"""The registry of job kinds: what each kind's parameters are, what it costs, and the function that does it.

Apps register their kinds when they load (see JobsConfig.ready); settings.JOB_KIND_MODULES adds more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

import pydantic
from django.conf import settings


class NoParams(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    # Called with the attempt's runner.JobContext (params, inputs, progress, outputs); the runner imports this
    # registry, so the type is named here rather than imported.
    run: Callable[..., None]
    params: type[pydantic.BaseModel] = NoParams
    inputs_min: int = 0
    inputs_max: int = 0
    # Housekeeping kinds (such as previews made after an upload) do not use up a plan's concurrent-job slots.
    counts_toward_plan_limit: bool = True
    # How long outputs are kept: made work is account content (kept until deleted, J16); scaled copies of a
    # private photo are "private_upload" and follow that photo's clock (E3).
    output_retention: str = "account_content"
    # Units of work a job of this kind is charged for, from its validated params (e.g. images to generate);
    # the price is units × cost.
    units: Callable[[dict], int] | None = None
    # Outputs are saved one by one and stay valid across attempts (a job that waits on a provider collects
    # each image as it comes); other kinds start every attempt from nothing.
    resumable: bool = False

    @property
    def cost(self) -> int:
        """Credits per unit of work (per job, for kinds without units)."""
        return int(settings.JOB_COSTS.get(self.name, 1))

    def cost_for(self, params: dict) -> int:
        return self.cost * (self.units(params) if self.units else 1)


class UnknownJobKind(LookupError):
    pass


_kinds: dict[str, JobKind] = {}
_extra_modules_loaded = False


def register(kind: JobKind) -> JobKind:
    _kinds[kind.name] = kind
    return kind


def get_kind(name: str) -> JobKind:
    _load_extra_modules()
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownJobKind(name) from None


def registered_kinds() -> list[JobKind]:
    _load_extra_modules()
    return sorted(_kinds.values(), key=lambda kind: kind.name)


def kinds_outside_plan_limit() -> list[str]:
    _load_extra_modules()
    return [name for name, kind in _kinds.items() if not kind.counts_toward_plan_limit]


def _load_extra_modules() -> None:
    global _extra_modules_loaded
    if not _extra_modules_loaded:
        for module in settings.JOB_KIND_MODULES:
            import_module(module)
        _extra_modules_loaded = True
