import os
from typing import Any, NamedTuple

import pandas as pd

class Market(NamedTuple):
    data: pd.DataFrame
    truth: pd.DataFrame
    seed: int
    @property
    def ticks(self) -> pd.DataFrame: ...
    @property
    def prices(self) -> pd.DataFrame: ...

def ticks(
    seed: int | None = ...,
    symbols: int | None = ...,
    pairs: int | None = ...,
    sessions: int | None = ...,
    sectors: int | None = ...,
    config: dict[str, Any] | str | os.PathLike[str] | None = ...,
    **market: Any,
) -> Market: ...
def bars(
    interval: str = ...,
    seed: int | None = ...,
    symbols: int | None = ...,
    pairs: int | None = ...,
    sessions: int | None = ...,
    sectors: int | None = ...,
    config: dict[str, Any] | str | os.PathLike[str] | None = ...,
    **market: Any,
) -> Market: ...
