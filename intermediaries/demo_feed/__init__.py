"""Demo feeds: the files the core system would deliver, for the small demo and the large benchmark.

`demo_feed_write(directory=…, scale="small"|"large")` writes the six CSV files of docs/core-feed.md.
Everything is simulated, streamed straight to the files and never touches the ORM:

- prices are a random walk with drift per instrument, on business days from the first day of the
  month three years ago until yesterday (`market`);
- each portfolio is simulated month by month (`life`, `book`: cash in cents, positions in
  thousandths of a unit), so a sale never exceeds the position and a buy never exceeds the cash;
- the clients are the named cast's and generated people (`people`); `scales` says how many.

The random generators are seeded by the start month and the ISIN or portfolio number, so within
one calendar month a new run writes the same history plus the new days: importing it again only
creates the new rows. Identifiers never collide between scales (the large feed's numbers begin
with L), and the large feed's first instruments are the small feed's, with the same prices.
`load` gives the demo's brokers their numbers and imports the feeds.
"""

from .load import (
    DEMO_CAST_INTERMEDIARIES,
    demo_feed_load,
    intermediaries_ensure_for_demo_cast,
    large_intermediaries_ensure,
)
from .market import isin_make
from .scales import LARGE, SCALES
from .write import demo_feed_write

__all__ = [
    "DEMO_CAST_INTERMEDIARIES",
    "LARGE",
    "SCALES",
    "demo_feed_load",
    "demo_feed_write",
    "intermediaries_ensure_for_demo_cast",
    "isin_make",
    "large_intermediaries_ensure",
]
