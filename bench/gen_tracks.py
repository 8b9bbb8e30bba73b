"""Writes N planar points of drive-dwell-drive tracks (id,time,x,y), as the stops oracle test does."""
import math, random, sys

path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
with open(path, "w") as f:
    f.write("id,time,x,y\n")
    k = written = 0
    while written < n:
        x, y, t = rng.random() * 1e4, rng.random() * 1e4, 1767225600 + k * 100000
        h = rng.random() * 2 * math.pi
        for _ in range(3 + int(rng.random() * 5)):
            for _ in range(5 + int(rng.random() * 30)):
                h += (rng.random() - 0.5) * 0.6; dt = 20 + rng.random() * 70; v = 5 + rng.random() * 20
                x += math.cos(h) * v * dt; y += math.sin(h) * v * dt; t += round(dt)
                f.write(f"T{k},{t},{x:.3f},{y:.3f}\n"); written += 1
            j = 10 + rng.random() * 60
            for _ in range(int(rng.random() * 40)):
                t += round(20 + rng.random() * 70)
                f.write(f"T{k},{t},{x + (rng.random() - 0.5) * j:.3f},{y + (rng.random() - 0.5) * j:.3f}\n"); written += 1
        k += 1
