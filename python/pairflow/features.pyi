import os
from typing import Sequence

import pandas as pd

def bars(
    ticks: pd.DataFrame | str | os.PathLike[str],
    bars: str = ...,
    indicators: str | Sequence[str] | None = ...,
    lateness: str = ...,
    max_rejects: int = ...,
) -> pd.DataFrame: ...
