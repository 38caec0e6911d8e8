"""Byte-compare what users see before and after a performance change.

``record DIR`` writes, for every library case, the stdout of ``hemedx rank ID --json`` and
``hemedx explain ID --json`` (new processes, as a user runs them) plus the in-process ``rank_case`` JSON
of every stage; ``check DIR`` produces the same again and reports every file whose bytes differ.
Exit status 0 when everything is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from hemedx import load_pack, rank_case
from hemedx.cases.library import load_library


def outputs() -> dict[str, bytes]:
    """Every compared output, keyed by a file name."""
    exe = Path(sys.executable).parent / "hemedx"
    pack = load_pack()
    out: dict[str, bytes] = {}
    for case in load_library(pack):
        for command in ("rank", "explain"):
            done = subprocess.run([str(exe), command, case.id, "--json"], capture_output=True, check=False)
            out[f"{case.id}.{command}.json"] = done.stdout + f"\nexit {done.returncode}\n".encode()
        for stage in range(len(case.stages)):
            report = rank_case(case, pack, upto=stage)
            out[f"{case.id}.stage{stage}.json"] = json.dumps(report, indent=2, ensure_ascii=False).encode()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["record", "check"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    produced = outputs()
    if args.mode == "record":
        args.directory.mkdir(parents=True, exist_ok=True)
        for name, data in produced.items():
            (args.directory / name).write_bytes(data)
        print(f"recorded {len(produced)} outputs in {args.directory}")
        return 0
    differing = [
        name
        for name, data in produced.items()
        if not (args.directory / name).is_file() or (args.directory / name).read_bytes() != data
    ]
    missing = sorted({p.name for p in args.directory.glob("*.json")} - set(produced))
    for name in differing + missing:
        print(f"DIFFERS: {name}")
    print(
        f"{len(produced) - len(differing)} of {len(produced)} outputs byte-identical; {len(missing)} missing"
    )
    return 1 if differing or missing else 0


if __name__ == "__main__":
    sys.exit(main())
