"""Splink 5 (DuckDB backend) on the entity-resolution benchmark's data, with the settings of
bench/er.toml: the same columns, comparison thresholds, term-frequency adjustments and
blocking rules; u by random sampling, m by EM, clusters at the same threshold. Prints one JSON
line with the pairwise and cluster F1 (computed here the same way as for Rastro) and seconds.

usage: er_splink.py DATA.csv
"""
import json
import logging
import sys
import time

import pandas as pd
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

from er_score import score

logging.disable(logging.CRITICAL)


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    df = df.rename(columns={"rec_id": "unique_id"})
    db = DuckDBAPI()
    sdf = db.register(df)
    names = [cl.JaroWinklerAtThresholds(c, [0.92, 0.80]) for c in ("given_name", "surname", "suburb")]
    names = [n.configure(term_frequency_adjustments=True) for n in names]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            names[0],
            names[1],
            cl.DamerauLevenshteinAtThresholds("street_number", [1]),
            cl.JaroWinklerAtThresholds("address_1", [0.92, 0.80]),
            names[2],
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
            cl.DamerauLevenshteinAtThresholds("date_of_birth", [1]),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("postcode", "street_number"),
            block_on("soc_sec_id"),
            block_on("suburb", "substr(surname, 1, 2)"),
        ],
    )
    linker = Linker(sdf, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in (block_on("date_of_birth"), block_on("given_name", "surname"), block_on("soc_sec_id")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5)
    pairs = pred.as_pandas_dataframe()[["unique_id_l", "unique_id_r"]]
    cl_df = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    seconds = time.perf_counter() - t0
    pair_list = list(zip(pairs.unique_id_l, pairs.unique_id_r))
    labels = dict(zip(cl_df.unique_id, cl_df.cluster_id))
    out = {"tool": "splink", "seconds": seconds}
    out.update(score(df.unique_id.tolist(), pair_list, labels))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
