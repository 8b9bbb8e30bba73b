"""Impurity profiles for the forensic-linkage benchmark (issue 18), modelled apart from the simulator.

Writes N casework samples and a reference collection in the `samples.csv` format, with 30 target
compounds (bench/forensics.toml): L laboratories, each a log-normal signature over a random
subset of the compounds; batches drift from the signature; each sample adds measurement noise,
a dilution factor (cutting) and a detection limit. The reference collection comes from other
laboratories, so calibration never sees the casework's truth.
Usage: python3 bench/forensics_data.py N OUT.csv [SEED]
"""

import sys

import numpy as np

COMPOUNDS = 30
REF_GROUPS, REF_PER_GROUP = 300, 6


def profiles(rng, labs, per_lab):
    sig = rng.lognormal(0.0, 1.2, size=(labs, COMPOUNDS))
    present = rng.random((labs, COMPOUNDS)) < rng.uniform(0.6, 0.95, size=(labs, 1))
    sig *= present
    lab = np.repeat(np.arange(labs), per_lab)
    batch = rng.lognormal(0.0, 0.15, size=(labs * per_lab // 5 + 1, COMPOUNDS))
    x = sig[lab] * batch[np.arange(lab.size) // 5] * rng.lognormal(0.0, 0.08, size=(lab.size, COMPOUNDS))
    x *= rng.uniform(0.05, 1.0, size=(lab.size, 1))  # cutting dilutes every peak alike
    x[x < 0.02] = 0.0  # below the detection limit: the peak is missing
    return lab, x


def write(out, rows):
    for i, (ident, seizure, group, x) in enumerate(rows):
        areas = ";".join(f"c{k:02}={v:.6g}" for k, v in enumerate(x) if v > 0)
        out.write(f"{ident},BENCH,AMBER,,{seizure},{group},2026-01-01T00:00:00Z,BENCH-GCMS-1,{areas}\n")


def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 18)
    per_lab = 25
    lab, x = profiles(rng, n // per_lab, per_lab)
    rlab, rx = profiles(rng, REF_GROUPS, REF_PER_GROUP)
    with open(path, "w") as out:
        out.write("id,originator,tlp,releasable_to,seizure,reference_group,analysed,instrument,areas\n")
        write(out, ((f"S{i:07}", f"Z{lab[i]:06}-{i % 3}", "", x[i]) for i in range(lab.size)))
        write(out, ((f"R{i:06}", "", f"G{rlab[i]:04}", rx[i]) for i in range(rlab.size)))
    # The truth (laboratory of each casework sample) for the peer's check, one per line.
    np.save(path + ".labs.npy", lab)


if __name__ == "__main__":
    main()
