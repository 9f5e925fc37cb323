"""Carve a deterministic dev split out of the Banking77 train CSV: held-out queries and labelled examples.

    python benchmarks/banking77_split.py --out /tmp/b77            # 20% queries / 80% examples, seed 77
    bankbot eval retrieval --queries /tmp/b77/queries.csv --examples /tmp/b77/examples.csv

Stratified by intent with a fixed seed, so every run writes the same two files. The data stays outside the
repository (Banking77 is used by path only).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

DEFAULT_SOURCE = Path("/work/shared/data/banking77/train.csv")


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def split(
    texts: list[str], labels: list[str], *, query_fraction: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from sklearn.model_selection import train_test_split

    ex_t, q_t, ex_l, q_l = train_test_split(
        texts, labels, test_size=query_fraction, stratify=labels, random_state=seed, shuffle=True
    )
    return list(zip(q_t, q_l, strict=True)), list(zip(ex_t, ex_l, strict=True))


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="Banking77 train.csv (text,category)")
    parser.add_argument("--out", type=Path, required=True, help="folder for queries.csv and examples.csv")
    parser.add_argument("--query-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=77)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"banking77_split: {args.source}: no such file", file=sys.stderr)
        return 2
    texts, labels = read_labelled(args.source)
    queries, examples = split(texts, labels, query_fraction=args.query_fraction, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "queries.csv", queries)
    write_csv(args.out / "examples.csv", examples)
    summary = {
        "source": str(args.source),
        "seed": args.seed,
        "query_fraction": args.query_fraction,
        "queries": len(queries),
        "examples": len(examples),
        "intents": len(set(labels)),
        "out": str(args.out),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
