"""Synthetic person records with duplicates, for the entity-resolution benchmark.

Febrl's shape (rec-N-org / rec-N-dup-K ids carry the truth) with Mexican-style names and
places, written in lower-case ASCII as Febrl is, so the comparison with Splink measures the
engines rather than accent folding. Every name is synthetic. Deterministic for a seed.

usage: er_data.py N OUT.csv [--seed S]
"""
import csv
import random
import sys

GIVEN = ("jose luis maria juan ana carlos guadalupe jorge rosa miguel fernanda hector veronica "
         "raul sofia andres patricia oscar lucia ramon alejandro daniela eduardo gabriela "
         "ricardo monica francisco laura antonio adriana javier beatriz roberto claudia manuel "
         "elena pedro silvia alberto teresa arturo leticia sergio norma enrique alicia fernando "
         "martha rafael susana ignacio carmen mario isabel gerardo irma ruben blanca").split()
SURNAME = ("lopez martinez garcia hernandez gonzalez perez rodriguez sanchez ramirez cruz flores "
           "gomez morales vazquez jimenez reyes diaz torres gutierrez ruiz mendoza aguilar ortiz "
           "castillo nunez romero alvarez moreno herrera medina castro vargas ramos guzman "
           "velazquez rojas contreras salazar luna dominguez soto chavez rios juarez mejia "
           "estrada cervantes villanueva navarro camacho trujillo rosales pacheco fuentes "
           "cardenas espinoza ibarra avila zamora valencia orozco bautista leon marquez").split()
STREET = ("hidalgo juarez morelos allende zaragoza reforma insurgentes independencia madero "
          "guerrero obregon carranza revolucion constitucion libertad victoria aldama matamoros "
          "abasolo galeana bravo iturbide degollado ocampo mina rayon").split()
STYPE = ["calle", "avenida", "privada", "boulevard", "calzada"]
SUBURB = ("centro industrial reforma moderna jardines lomas americana providencia chapultepec "
          "obrera popular roma condesa del valle santa fe las aguilas san angel coyoacan tlalpan "
          "mitras cumbres anahuac del norte las flores san pedro santa maria").split()
STATE = ["jal", "nl", "cdmx", "mex", "gto", "pue", "ver", "mich", "son", "chih", "bc", "sin",
         "tamps", "coah", "qro", "ags", "dgo", "zac", "slp", "hgo"]

SOUNDS = [("v", "b"), ("b", "v"), ("z", "s"), ("s", "z"), ("ll", "y"), ("y", "ll"), ("ce", "se"),
          ("ci", "si"), ("h", ""), ("qu", "k"), ("j", "g"), ("x", "j")]


def typo(r, s):
    if len(s) < 2:
        return s
    i = r.randrange(len(s))
    op = r.randrange(4)
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op == 0:
        return s[:i] + r.choice(letters) + s[i + 1:]
    if op == 1:
        return s[:i] + s[i + 1:]
    if op == 2:
        return s[:i] + r.choice(letters) + s[i:]
    if i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s


def sound(r, s):
    opts = [(a, b) for a, b in SOUNDS if a in s]
    if not opts:
        return typo(r, s)
    a, b = r.choice(opts)
    return s.replace(a, b, 1)


def digit_typo(r, s):
    if not s:
        return s
    i = r.randrange(len(s))
    return s[:i] + str(r.randrange(10)) + s[i + 1:]


def original(r, n):
    y, m, d = r.randrange(1940, 2005), r.randrange(1, 13), r.randrange(1, 29)
    return {
        "rec_id": f"rec-{n}-org",
        "given_name": r.choice(GIVEN),
        "surname": r.choice(SURNAME),
        "street_number": str(r.randrange(1, 2000)),
        "address_1": f"{r.choice(STYPE)} {r.choice(STREET)}",
        "suburb": r.choice(SUBURB),
        "postcode": f"{r.randrange(1000, 99999):05d}",
        "state": r.choice(STATE),
        "date_of_birth": f"{y}{m:02d}{d:02d}",
        "soc_sec_id": str(r.randrange(1000000, 9999999)),
    }


def duplicate(r, o, n, k):
    d = dict(o)
    d["rec_id"] = f"rec-{n}-dup-{k}"
    for _ in range(r.choice([1, 1, 2, 2, 3])):
        f = r.choice(["given_name", "surname", "surname", "street_number", "address_1", "suburb",
                      "postcode", "date_of_birth", "soc_sec_id", "missing", "swap"])
        if f in ("given_name", "surname"):
            d[f] = sound(r, d[f]) if r.random() < 0.5 else typo(r, d[f])
        elif f in ("address_1", "suburb"):
            d[f] = typo(r, d[f])
        elif f in ("street_number", "postcode", "soc_sec_id"):
            d[f] = digit_typo(r, d[f])
        elif f == "date_of_birth":
            v = d[f]
            swap = len(v) == 8 and r.random() < 0.3 and int(v[6:8]) <= 12
            d[f] = v[:4] + v[6:8] + v[4:6] if swap else digit_typo(r, v)
        elif f == "missing":
            d[r.choice(["given_name", "street_number", "address_1", "suburb", "postcode",
                        "date_of_birth", "soc_sec_id", "state"])] = ""
        else:
            d["given_name"], d["surname"] = d["surname"], d["given_name"]
    return d


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    r = random.Random(seed)
    rows = []
    ent = 0
    while len(rows) < n:
        o = original(r, ent)
        rows.append(o)
        # Most entities have one record; the rest up to five duplicates (Febrl 3's shape).
        if r.random() < 0.35:
            for k in range(min(r.choice([1, 1, 1, 2, 2, 3, 4, 5]), n - len(rows))):
                rows.append(duplicate(r, o, ent, k))
        ent += 1
    r.shuffle(rows)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
