"""Oracle: PySAL esda G_Local with libpysal DistanceBand weights on a CSV of points.

Usage: esda_glocal.py INPUT.csv DISTANCE_BAND STAR(0|1) TRANSFORM(B|R)
Input columns: x, y, value. Prints JSON [{"g", "e", "v", "z", "p"}] in input order.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from esda.getisord import G_Local  # noqa: E402
from libpysal.weights import DistanceBand  # noqa: E402


def main():
    path, band, star, transform = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    df = pd.read_csv(path)
    coords = np.column_stack([df.x.to_numpy(), df.y.to_numpy()])
    w = DistanceBand(coords, threshold=band, binary=True, silence_warnings=True)
    g = G_Local(df.value.to_numpy(dtype=float), w, transform=transform, star=star, permutations=0)
    out = [
        {"g": float(a), "e": float(b), "v": float(c), "z": float(d), "p": float(e)}
        for a, b, c, d, e in zip(g.Gs, np.broadcast_to(g.EGs, g.Gs.shape), np.broadcast_to(g.VGs, g.Gs.shape), g.Zs, g.p_norm)
    ]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
