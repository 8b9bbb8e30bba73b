"""Oracle: MovingPandas TrajectoryStopDetector on a CSV of planar points.

Usage: movingpandas_stops.py INPUT.csv MAX_DIAMETER_M MIN_DURATION_S
Input columns: id, time (seconds since the epoch), x, y (metres). Prints JSON
[{"id": ..., "start_s": ..., "end_s": ...}] on stdout.
"""
import json
import sys
import warnings
from datetime import timedelta

warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402
import geopandas as gpd  # noqa: E402
import movingpandas as mpd  # noqa: E402
from shapely.geometry import Point  # noqa: E402


def main():
    path, max_diameter, min_duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    df = pd.read_csv(path, dtype={"id": str})
    df["t"] = pd.to_datetime(df["time"], unit="s")
    gdf = gpd.GeoDataFrame(df, geometry=[Point(x, y) for x, y in zip(df.x, df.y)], crs="EPSG:32614")
    tc = mpd.TrajectoryCollection(gdf, "id", t="t")
    det = mpd.TrajectoryStopDetector(tc)
    ranges = det.get_stop_time_ranges(max_diameter=max_diameter, min_duration=timedelta(seconds=min_duration))
    epoch = pd.Timestamp("1970-01-01")
    out = [
        {"id": str(r.traj_id), "start_s": (r.t_0 - epoch) / pd.Timedelta(seconds=1), "end_s": (r.t_n - epoch) / pd.Timedelta(seconds=1)}
        for r in ranges
    ]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
