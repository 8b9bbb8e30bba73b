//! Mexican addresses: parsed into street, number, interior, settlement (colonia) with its
//! type, postcode and municipality, and the land use the settlement type says.
//!
//! Written here rather than taken from a crate: address parsers for Mexico (libpostal's
//! models among them) are large C libraries or services, and what detection needs is the
//! settlement type, which follows a short, well-known vocabulary (the settlement types of
//! SEPOMEX's postcode catalogue and INEGI's address standard). Input is free text from
//! declarations and registries in any case, with or without accents, commas and periods.
//!
//! Land use by settlement type (the table `docs/detection.md` documents):
//!
//! | settlement type | land use |
//! |---|---|
//! | parque, zona, ciudad, corredor, polígono, complejo industrial; a colonia named "Industrial …" | industrial |
//! | fraccionamiento, unidad / conjunto habitacional, residencial, INFONAVIT, condominio | residential |
//! | ejido, rancho, ranchería, pueblo, comunidad | rural |
//! | colonia, barrio, centro, ampliación, anything else | not known from the address alone |
//!
//! An apartment or interior number ("Depto.", "Int.") in a colonia, barrio, centro or an
//! address with no settlement type reads as residential: that is how most flats are written.
//! It is a weaker sign than a fraccionamiento (offices have interior numbers too), and units
//! of an industrial park stay industrial.

use crate::LandUse;

/// A settlement type as addresses write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementKind {
    Colonia,
    Fraccionamiento,
    Industrial,
    Housing,
    Barrio,
    Rural,
    Centro,
}

/// An address in parts; every part optional, as real addresses omit any of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub street: Option<String>,
    pub number: Option<String>,
    pub interior: Option<String>,
    /// Whether the interior is an apartment (`Depto.`), not just a unit number.
    pub apartment: bool,
    pub settlement_kind: Option<SettlementKind>,
    pub settlement: Option<String>,
    pub postcode: Option<String>,
    pub municipality: Option<String>,
}

/// Markers, as normalised token sequences, and the settlement type they open.
const SETTLEMENTS: &[(&[&str], SettlementKind)] = &[
    (&["parque", "industrial"], SettlementKind::Industrial),
    (&["pque", "industrial"], SettlementKind::Industrial),
    (&["p", "industrial"], SettlementKind::Industrial),
    (&["zona", "industrial"], SettlementKind::Industrial),
    (&["ciudad", "industrial"], SettlementKind::Industrial),
    (&["cd", "industrial"], SettlementKind::Industrial),
    (&["corredor", "industrial"], SettlementKind::Industrial),
    (&["poligono", "industrial"], SettlementKind::Industrial),
    (&["complejo", "industrial"], SettlementKind::Industrial),
    (&["unidad", "habitacional"], SettlementKind::Housing),
    (&["u", "hab"], SettlementKind::Housing),
    (&["conjunto", "habitacional"], SettlementKind::Housing),
    (&["conj", "hab"], SettlementKind::Housing),
    (&["fraccionamiento"], SettlementKind::Fraccionamiento),
    (&["fracc"], SettlementKind::Fraccionamiento),
    (&["frac"], SettlementKind::Fraccionamiento),
    (&["residencial"], SettlementKind::Housing),
    (&["infonavit"], SettlementKind::Housing),
    (&["condominio"], SettlementKind::Housing),
    (&["colonia"], SettlementKind::Colonia),
    (&["col"], SettlementKind::Colonia),
    (&["ampliacion"], SettlementKind::Colonia),
    (&["amp"], SettlementKind::Colonia),
    (&["barrio"], SettlementKind::Barrio),
    (&["bo"], SettlementKind::Barrio),
    (&["ejido"], SettlementKind::Rural),
    (&["rancho"], SettlementKind::Rural),
    (&["rancheria"], SettlementKind::Rural),
    (&["pueblo"], SettlementKind::Rural),
    (&["comunidad"], SettlementKind::Rural),
    (&["zona", "centro"], SettlementKind::Centro),
];

const INTERIOR: &[&str] = &["int", "interior"];
const APARTMENT: &[&str] = &["depto", "departamento", "dpto", "depa"];
const NUMBER: &[&str] = &["no", "num", "numero", "nro"];
const POSTCODE: &[&[&str]] = &[&["c", "p"], &["cp"], &["codigo", "postal"]];
const MUNICIPALITY: &[&str] = &["mpio", "municipio", "mun", "alcaldia", "delegacion"];

/// A token of normalised text: lower case, accents folded (ñ kept), periods dropped; a comma
/// is a token of its own, because it ends a part.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    for ch in s.chars() {
        let ch = match ch {
            'á' | 'à' | 'ä' | 'Á' | 'À' | 'Ä' => 'a',
            'é' | 'è' | 'ë' | 'É' | 'È' | 'Ë' => 'e',
            'í' | 'ì' | 'ï' | 'Í' | 'Ì' | 'Ï' => 'i',
            'ó' | 'ò' | 'ö' | 'Ó' | 'Ò' | 'Ö' => 'o',
            'ú' | 'ù' | 'ü' | 'Ú' | 'Ù' | 'Ü' => 'u',
            'Ñ' => 'ñ',
            c => c.to_lowercase().next().unwrap_or(c),
        };
        match ch {
            ',' | ';' => {
                flush(&mut cur, &mut out);
                out.push(",".into());
            }
            '#' => {
                flush(&mut cur, &mut out);
                out.push("no".into());
            }
            '.' => flush(&mut cur, &mut out),
            c if c.is_whitespace() => flush(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn starts(t: &[String], at: usize, m: &[&str]) -> bool {
    m.iter()
        .enumerate()
        .all(|(k, w)| t.get(at + k).is_some_and(|x| x == w))
}

/// The marker of a settlement type at `at`, if one starts there: its length and type.
fn settlement_at(t: &[String], at: usize) -> Option<(usize, SettlementKind)> {
    SETTLEMENTS
        .iter()
        .find(|(m, _)| starts(t, at, m))
        .map(|(m, k)| (m.len(), *k))
}

fn is_postcode(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a token at `at` starts another part (so a name running on stops before it).
fn boundary(t: &[String], at: usize) -> bool {
    let w = t[at].as_str();
    w == ","
        || settlement_at(t, at).is_some()
        || INTERIOR.contains(&w)
        || APARTMENT.contains(&w)
        || MUNICIPALITY.contains(&w)
        || POSTCODE.iter().any(|m| starts(t, at, m))
        || is_postcode(w)
}

/// Words from `at` up to the next boundary, and where they stop.
fn words(t: &[String], mut at: usize) -> (Option<String>, usize) {
    let from = at;
    while at < t.len() && !boundary(t, at) {
        at += 1;
    }
    let s = t[from..at].join(" ");
    ((!s.is_empty()).then_some(s), at)
}

impl Address {
    /// Parses free text. Never fails: what is not recognised is left out.
    pub fn parse(s: &str) -> Address {
        let t = tokens(s);
        let mut a = Address::default();
        // The street: words up to the first number, marker or comma.
        let mut at = 0;
        let mut street = Vec::new();
        while at < t.len() && !boundary(&t, at) {
            let w = &t[at];
            if NUMBER.contains(&w.as_str()) && t.get(at + 1).is_some_and(|n| has_digit(n)) {
                a.number = Some(t[at + 1].clone());
                at += 2;
                break;
            }
            if (has_digit(w) && !street.is_empty() && !names_street(&street))
                || w == "s/n"
                || w == "sn"
            {
                a.number = Some(w.clone());
                at += 1;
                break;
            }
            street.push(w.clone());
            at += 1;
        }
        if !street.is_empty() {
            a.street = Some(street.join(" "));
        }
        while at < t.len() {
            let w = t[at].as_str();
            if w == "," {
                at += 1;
                continue;
            }
            if let Some((n, kind)) = settlement_at(&t, at) {
                let (name, next) = words(&t, at + n);
                // "Col. Industrial Vallejo": a colonia named for the industry it was built for.
                let kind = match (kind, &name) {
                    (SettlementKind::Colonia, Some(x))
                        if x.split(' ').any(|w| w == "industrial") =>
                    {
                        SettlementKind::Industrial
                    }
                    (k, _) => k,
                };
                if a.settlement_kind.is_none() {
                    a.settlement_kind = Some(kind);
                    a.settlement = name;
                }
                at = next.max(at + n);
                continue;
            }
            if INTERIOR.contains(&w) || APARTMENT.contains(&w) {
                a.apartment |= APARTMENT.contains(&w);
                if let Some(x) = t
                    .get(at + 1)
                    .filter(|x| !boundary(&t, at + 1) || has_digit(x))
                {
                    a.interior = Some(x.clone());
                    at += 2;
                } else {
                    at += 1;
                }
                continue;
            }
            if let Some(m) = POSTCODE.iter().find(|m| starts(&t, at, m)) {
                if let Some(x) = t.get(at + m.len()).filter(|x| is_postcode(x)) {
                    a.postcode = Some(x.clone());
                    at += m.len() + 1;
                } else {
                    at += m.len();
                }
                continue;
            }
            if is_postcode(w) {
                a.postcode.get_or_insert_with(|| w.to_string());
                at += 1;
                continue;
            }
            if MUNICIPALITY.contains(&w) {
                let from = at + 1 + usize::from(t.get(at + 1).is_some_and(|x| x == "de"));
                let (name, next) = words(&t, from);
                a.municipality = name;
                at = next.max(at + 1);
                continue;
            }
            // Unmarked words after the settlement: the municipality or the state; kept as the
            // municipality when none was marked.
            let (name, next) = words(&t, at);
            if a.municipality.is_none() && a.settlement_kind.is_some() {
                a.municipality = name;
            }
            at = next.max(at + 1);
        }
        a
    }

    /// The land use the address itself says (see the module's table); `None` when it says
    /// nothing either way.
    pub fn land_use(&self) -> Option<LandUse> {
        match self.settlement_kind {
            Some(SettlementKind::Industrial) => Some(LandUse::Industrial),
            Some(SettlementKind::Fraccionamiento) | Some(SettlementKind::Housing) => {
                Some(LandUse::Residential)
            }
            Some(SettlementKind::Rural) => Some(LandUse::Rural),
            _ if self.apartment || self.interior.is_some() => Some(LandUse::Residential),
            _ => None,
        }
    }
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Words after which a number names the street ("Calle 5", "Eje 3", "Carretera Federal 15
/// Km 12.5") rather than the house.
const STREET_WORDS: &[&str] = &[
    "calle",
    "c",
    "av",
    "avenida",
    "eje",
    "carretera",
    "carr",
    "federal",
    "fed",
    "km",
    "kilometro",
    "andador",
    "cerrada",
    "privada",
    "prolongacion",
    "prol",
    "circuito",
    "calzada",
    "blvd",
    "boulevard",
    "retorno",
    "manzana",
    "mz",
    "lote",
    "lt",
];

fn names_street(street: &[String]) -> bool {
    street
        .last()
        .is_some_and(|w| STREET_WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str, kind: Option<SettlementKind>, use_: Option<LandUse>) -> Address {
        let a = Address::parse(s);
        assert_eq!(a.settlement_kind, kind, "{s}: {a:?}");
        assert_eq!(a.land_use(), use_, "{s}: {a:?}");
        a
    }

    #[test]
    fn real_address_forms() {
        use LandUse::*;
        use SettlementKind as K;
        let a = check(
            "Calle 5 No. 1450, Col. Industrial, C.P. 44940, Guadalajara, Jal.",
            Some(K::Industrial),
            Some(Industrial),
        );
        assert_eq!(a.street.as_deref(), Some("calle 5"));
        assert_eq!(a.number.as_deref(), Some("1450"));
        assert_eq!(a.postcode.as_deref(), Some("44940"));
        assert_eq!(a.municipality.as_deref(), Some("guadalajara"));
        let a = check(
            "Av. Poniente 150, Col. Industrial Vallejo, Azcapotzalco, CDMX, 02300",
            Some(K::Industrial),
            Some(Industrial),
        );
        assert_eq!(a.settlement.as_deref(), Some("industrial vallejo"));
        assert_eq!(a.postcode.as_deref(), Some("02300"));
        let a = check(
            "Privada de los Pinos #23, Fracc. Las Fuentes, Culiacán, Sin.",
            Some(K::Fraccionamiento),
            Some(Residential),
        );
        assert_eq!(a.settlement.as_deref(), Some("las fuentes"));
        assert_eq!(a.number.as_deref(), Some("23"));
        check(
            "FRACCIONAMIENTO VILLA DE LAS FLORES MZ 4 LT 12 TLAQUEPAQUE",
            Some(K::Fraccionamiento),
            Some(Residential),
        );
        check(
            "Blvd. Agricultores 3400 Parque Industrial El Florido Tijuana BC",
            Some(K::Industrial),
            Some(Industrial),
        );
        check(
            "Carretera Federal 15 Km 12.5, Ejido El Dorado, Mpio. de Culiacán",
            Some(K::Rural),
            Some(Rural),
        );
        // A colonia says nothing by itself; a flat in it does.
        check(
            "Calle Hidalgo 120, Col. Centro, Zapopan",
            Some(K::Colonia),
            None,
        );
        check(
            "Calle Morelos 45 Depto. 3, Col. Americana, Guadalajara",
            Some(K::Colonia),
            Some(Residential),
        );
        let a = check(
            "Av. Juárez 812 Int. 4, Colonia Moderna",
            Some(K::Colonia),
            Some(Residential),
        );
        assert_eq!(a.interior.as_deref(), Some("4"));
        // Interior units of an industrial park stay industrial.
        check(
            "Circuito Industrial 3 Int. 7, Zona Industrial, San Luis Potosí",
            Some(K::Industrial),
            Some(Industrial),
        );
        check(
            "Unidad Habitacional Tlatelolco Edificio 12",
            Some(K::Housing),
            Some(Residential),
        );
        check("", None, None);
        check(",,, #", None, None);
    }

    #[test]
    fn accents_case_commas_and_periods_do_not_matter() {
        for s in [
            "Av. Industria 1, Parque Industrial Norte",
            "AV INDUSTRIA 1 PARQUE INDUSTRIAL NORTE",
            "av. industria 1 pque. industrial norte",
        ] {
            check(
                s,
                Some(SettlementKind::Industrial),
                Some(LandUse::Industrial),
            );
        }
        for s in [
            "Calle Encino 4, Fracc. Jardines del Valle",
            "CALLE ENCINO 4 FRACC JARDINES DEL VALLE",
            "calle encino 4 fraccionamiento jardínes del valle",
        ] {
            check(
                s,
                Some(SettlementKind::Fraccionamiento),
                Some(LandUse::Residential),
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_ignores_ascii_case(s in "\\PC{0,80}") {
            let a = Address::parse(&s);
            let _ = a.land_use();
            proptest::prop_assert_eq!(Address::parse(&s.to_ascii_uppercase()), a);
        }
    }
}
