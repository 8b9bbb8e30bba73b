//! Normalisation of the values record linkage compares: Spanish text (accents folded, with a
//! variant that keeps ñ), organisation legal forms, person-name order, a Spanish phonetic key,
//! RFCs, Mexican phone numbers, addresses and dates.
//!
//! Written here rather than taken from a crate: no maintained Rust crate knows Mexican legal
//! forms, RFC structure or the national numbering plan, and the phonetic key must follow
//! Spanish, not English, sound rules (Soundex and Metaphone crates are English).

/// Lower case, accents folded, `ñ` kept: the spelling an exact comparison uses, so that
/// "Peña" and "Pena" (two surnames) are not the same at the exact level.
pub fn fold_keep_enye(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ç' => 'c',
            c => c,
        };
        if c.is_alphanumeric() || c == '&' {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    squash_spaces(&out)
}

/// As [`fold_keep_enye`], with `ñ` folded to `n` too: what records typed on keyboards without
/// `ñ` hold.
pub fn fold(s: &str) -> String {
    fold_keep_enye(s).replace('ñ', "n")
}

fn squash_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Mexican (and common Latin American) legal forms, as the word sequences they fold to, longest
/// first so that "s de rl de cv" is removed whole before "s de rl".
const LEGAL_FORMS: &[&[&str]] = &[
    &["s", "de", "r", "l", "de", "c", "v"],
    &["s", "de", "rl", "de", "cv"],
    &["s", "a", "p", "i", "de", "c", "v"],
    &["sapi", "de", "cv"],
    &["s", "a", "b", "de", "c", "v"],
    &["sab", "de", "cv"],
    &["s", "a", "de", "c", "v"],
    &["sa", "de", "cv"],
    &["s", "de", "r", "l"],
    &["s", "de", "rl"],
    &["s", "c", "de", "r", "l"],
    &["sc", "de", "rl"],
    &["a", "c"],
    &["s", "c"],
    &["s", "a"],
    &["sa", "de", "c", "v"],
    &["sa"],
    &["sc"],
    &["ac"],
    &["sapi"],
    &["sab"],
    &["srl"],
    &["sociedad", "anonima", "de", "capital", "variable"],
    &["sociedad", "anonima"],
    &["sociedad", "civil"],
    &["asociacion", "civil"],
    &["sociedad", "de", "responsabilidad", "limitada"],
    &["de", "cv"],
    &["cv"],
];

/// Words that carry no identity in a company name.
const ORG_STOP: &[&str] = &["de", "del", "la", "las", "el", "los", "y", "e", "en", "&"];

/// Common abbreviations in company names, to their full word.
const ORG_ABBREV: &[(&str, &str)] = &[
    ("quim", "quimica"),
    ("quimicos", "quimica"),
    ("quimico", "quimica"),
    ("quimicas", "quimica"),
    ("ind", "industrias"),
    ("industrial", "industrias"),
    ("lab", "laboratorios"),
    ("labs", "laboratorios"),
    ("laboratorio", "laboratorios"),
    ("dist", "distribuidora"),
    ("distribuidor", "distribuidora"),
    ("com", "comercializadora"),
    ("comercial", "comercializadora"),
    ("prods", "productos"),
    ("farm", "farmaceutica"),
    ("farmaceuticos", "farmaceutica"),
    ("cia", "compania"),
    ("intl", "internacional"),
    ("nal", "nacional"),
];

/// An organisation name reduced to its identity: folded (ñ kept), punctuation dropped, legal
/// form removed wherever it sits, abbreviations expanded, stop words dropped, words in
/// alphabetical order (so "Pacífico Química" and "Química del Pacífico" agree).
pub fn org_name(s: &str) -> String {
    // Dots and commas split "S.A." into letters; legal forms are matched on those letters.
    let f = fold_keep_enye(s);
    let words: Vec<&str> = f.split(' ').filter(|w| !w.is_empty()).collect();
    let mut kept: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for form in LEGAL_FORMS {
            if words.len() - i >= form.len() && form.iter().zip(&words[i..]).all(|(a, b)| a == b) {
                i += form.len();
                continue 'outer;
            }
        }
        let w = words[i];
        i += 1;
        if ORG_STOP.contains(&w) {
            continue;
        }
        let w = ORG_ABBREV
            .iter()
            .find(|(a, _)| *a == w)
            .map(|(_, full)| (*full).to_string())
            .unwrap_or_else(|| w.to_string());
        kept.push(w);
    }
    if kept.is_empty() {
        // A name that is nothing but a legal form or stop words keeps its words, so it still
        // compares (and a second pass gives the same).
        kept = words.iter().map(|w| w.to_string()).collect();
    }
    kept.sort();
    kept.dedup();
    kept.join(" ")
}

/// Particles of Spanish person names that are not names themselves.
const PERSON_STOP: &[&str] = &["de", "del", "la", "las", "los", "y", "vda", "viuda"];

/// A person name folded (ñ kept), particles dropped, words in alphabetical order: "López
/// García, José" and "José López García" agree.
pub fn person_name(s: &str) -> String {
    let f = fold_keep_enye(s);
    let mut w: Vec<&str> = f
        .split(' ')
        .filter(|w| !w.is_empty() && !PERSON_STOP.contains(w))
        .collect();
    w.sort_unstable();
    w.join(" ")
}

/// A Spanish phonetic key of one or more words: letters that sound alike in Mexican Spanish
/// share a code (b/v, c/k/q, s/z/soft c, j/soft g/x, y/ll), h is silent, doubled letters count
/// once, vowels after the first letter of a word are dropped. Words keep their order.
pub fn phonetic(s: &str) -> String {
    let f = fold(s);
    let mut out = String::with_capacity(f.len());
    for (k, word) in f.split(' ').filter(|w| !w.is_empty()).enumerate() {
        if k > 0 {
            out.push(' ');
        }
        let cs: Vec<char> = word.chars().collect();
        let mut codes: Vec<char> = Vec::with_capacity(cs.len());
        let mut i = 0;
        while i < cs.len() {
            let c = cs[i];
            let next = cs.get(i + 1).copied();
            let (code, step) = match (c, next) {
                ('c', Some('h')) => ('X', 2),
                ('l', Some('l')) => ('Y', 2),
                ('q', Some('u')) => ('K', 2),
                ('g', Some('u')) if matches!(cs.get(i + 2), Some('e' | 'i')) => ('G', 2),
                ('c', Some('e' | 'i')) => ('S', 1),
                ('g', Some('e' | 'i')) => ('J', 1),
                ('c' | 'k' | 'q', _) => ('K', 1),
                ('z' | 's', _) => ('S', 1),
                ('v' | 'b' | 'w', _) => ('B', 1),
                ('x' | 'j', _) => ('J', 1),
                ('y', _) if next.is_none() => ('I', 1),
                ('y', _) => ('Y', 1),
                ('h', _) => ('\0', 1),
                ('a' | 'e' | 'i' | 'o' | 'u', _) => ('A', 1),
                (c, _) => (c.to_ascii_uppercase(), 1),
            };
            i += step;
            if code == '\0' {
                continue;
            }
            // A vowel is kept only as the first sound of a word.
            if code == 'A' && !codes.is_empty() {
                continue;
            }
            if codes.last() != Some(&code) {
                codes.push(code);
            }
        }
        out.extend(codes);
    }
    out
}

/// An RFC split into the parts that mean something: the name letters, the date (YYMMDD), the
/// homoclave (two characters SAT assigns against homonyms) and the check character, with
/// whether that check character is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfcParts {
    pub letters: String,
    pub date: String,
    pub homoclave: String,
    pub check: char,
    pub check_ok: bool,
}

impl RfcParts {
    /// The name letters and date: what two RFCs of one party share even when the homoclave was
    /// mistyped or assigned twice.
    pub fn root(&self) -> String {
        format!("{}{}", self.letters, self.date)
    }
}

/// Parses an RFC without rejecting a wrong check character (a mistyped RFC is still evidence);
/// `None` when the structure is not an RFC (wrong length, letters where digits go, a generic
/// RFC such as `XAXX010101000` or a run of one character).
pub fn rfc(s: &str) -> Option<RfcParts> {
    let t: Vec<char> = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.'))
        .flat_map(char::to_uppercase)
        .collect();
    let n_letters = match t.len() {
        12 => 3,
        13 => 4,
        _ => return None,
    };
    if !t[..n_letters]
        .iter()
        .all(|c| c.is_ascii_uppercase() || matches!(c, '&' | 'Ñ'))
        || !t[n_letters..n_letters + 6].iter().all(char::is_ascii_digit)
        || !t[n_letters + 6..].iter().all(char::is_ascii_alphanumeric)
    {
        return None;
    }
    let s: String = t.iter().collect();
    // SAT's generic RFCs for the public and for foreigners identify nobody.
    if s == "XAXX010101000" || s == "XEXX010101000" || t.iter().all(|c| *c == t[0]) {
        return None;
    }
    let check = t[t.len() - 1];
    let check_ok = rastro_core::Rfc::check_char(&t[..t.len() - 1]) == Some(check);
    Some(RfcParts {
        letters: t[..n_letters].iter().collect(),
        date: t[n_letters..n_letters + 6].iter().collect(),
        homoclave: t[n_letters + 6..t.len() - 1].iter().collect(),
        check,
        check_ok,
    })
}

/// A Mexican phone number as its 10-digit national number, from any of the ways it is
/// written: `+52 1 33 1234 5678`, `044 33 1234 5678`, `01 (33) 1234-5678`, `3312345678`.
/// Numbers of other lengths keep their digits (8 or more) so they still compare; fewer than 8
/// digits, or one digit repeated, identify nobody.
pub fn phone(s: &str) -> Option<String> {
    let mut d: String = s.chars().filter(char::is_ascii_digit).collect();
    if let Some(r) = d.strip_prefix("00") {
        d = r.to_string();
    }
    // National numbers have 10 digits, so 11 or more starting with 52 carry the country code
    // (with the old mobile 1, or a short local number written after it).
    if d.len() >= 11 && d.starts_with("52") {
        d = d[2..].to_string();
        // The mobile "1" after the country code, dropped from the plan in 2019.
        if d.len() == 11 && d.starts_with('1') {
            d = d[1..].to_string();
        }
    }
    // Domestic long-distance and mobile prefixes of the old plan.
    if d.len() == 13 && (d.starts_with("044") || d.starts_with("045")) {
        d = d[3..].to_string();
    } else if d.len() == 12 && d.starts_with("01") {
        d = d[2..].to_string();
    }
    let first = d.chars().next()?;
    if d.len() < 8 || d.chars().all(|c| c == first) {
        return None;
    }
    Some(d)
}

/// The area code of a 10-digit national number: two digits for Mexico City, Guadalajara and
/// Monterrey, three elsewhere.
pub fn area_code(national: &str) -> Option<&str> {
    if national.len() != 10 {
        return None;
    }
    let two = &national[..2];
    Some(if matches!(two, "55" | "56" | "33" | "81") {
        two
    } else {
        &national[..3]
    })
}

/// An address split into what identifies it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressParts {
    /// Street name folded, without its type ("av", "calle", …).
    pub street: String,
    /// The outside number.
    pub number: String,
    /// The colonia (neighbourhood), folded, without "col."/"fracc.".
    pub colonia: String,
    /// A 5-digit postcode, when written.
    pub postcode: String,
    /// Every word folded, for a token comparison.
    pub all: String,
}

const STREET_TYPES: &[&str] = &[
    "calle",
    "c",
    "av",
    "ave",
    "avenida",
    "blvd",
    "boulevard",
    "bulevar",
    "calz",
    "calzada",
    "carr",
    "carretera",
    "priv",
    "privada",
    "prol",
    "prolongacion",
    "circuito",
    "cto",
    "andador",
    "callejon",
    "road",
    "street",
    "st",
    "rd",
];
const COLONIA_MARKS: &[&str] = &[
    "col",
    "colonia",
    "fracc",
    "fraccionamiento",
    "barrio",
    "bo",
    "unidad",
    "u",
    "hab",
    "parque",
];

/// Splits an address written as one line ("Av. Industria 245, Col. Centro, C.P. 44100") with
/// the domain's Mexican address parser ([`rastro_core::Address`]), then folds each part for
/// comparison; the street loses its type word ("av", "calle") so "Av. Industria" and "Avenida
/// Industria" agree.
pub fn address(s: &str) -> AddressParts {
    let a = rastro_core::Address::parse(s);
    let mut street: Vec<String> = a
        .street
        .as_deref()
        .map(fold)
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if street.len() > 1 && STREET_TYPES.contains(&street[0].as_str()) {
        street.remove(0);
    }
    let f = fold(s);
    let mut all: Vec<&str> = f
        .split(' ')
        .filter(|w| !w.is_empty() && !STREET_TYPES.contains(w) && !COLONIA_MARKS.contains(w))
        .collect();
    all.sort_unstable();
    all.dedup();
    AddressParts {
        street: street.join(" "),
        number: a.number.as_deref().map(fold).unwrap_or_default(),
        colonia: a.settlement.as_deref().map(fold).unwrap_or_default(),
        postcode: a.postcode.unwrap_or_default(),
        all: all.join(" "),
    }
}

/// A date as `YYYYMMDD` from `YYYYMMDD`, `YYYY-MM-DD`, `YYYY/MM/DD` or `DD/MM/YYYY`; other text
/// keeps its digits, so a date still compares by edit distance.
pub fn date(s: &str) -> Option<String> {
    let t = s.trim();
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    let d = if parts.len() == 3 && parts[2].len() == 4 {
        format!("{}{:0>2}{:0>2}", parts[2], parts[1], parts[0])
    } else if parts.len() == 3 {
        format!("{}{:0>2}{:0>2}", parts[0], parts[1], parts[2])
    } else {
        t.chars().filter(char::is_ascii_digit).collect()
    };
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) || d.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(d)
}

/// A free identifier (licence, social security number, street number): letters and digits
/// upper-cased; `None` for empty ids, ids of zeros, and longer runs of one character
/// ("9999999"), which are placeholders that identify nobody. A short one ("5", "11") is a real
/// street number.
pub fn identifier(s: &str) -> Option<String> {
    let t: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_uppercase())
        .collect();
    let first = t.chars().next()?;
    if t.chars().all(|c| c == '0') || (t.len() >= 4 && t.chars().all(|c| c == first)) {
        return None;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_spellings_agree() {
        let a = org_name("Químicos del Pacífico, S.A. de C.V.");
        assert_eq!(a, org_name("QUIMICOS DEL PACIFICO SA DE CV"));
        assert_eq!(a, org_name("Pacifico Quimica S.A. de C.V."));
        assert_eq!(a, "pacifico quimica");
        assert_eq!(
            org_name("Reactivos Azteca, S. de R.L. de C.V."),
            org_name("REACTIVOS AZTECA S DE RL DE CV")
        );
        assert_eq!(org_name("Grupo Orozco S.C."), "grupo orozco");
        // A legal form is dropped wherever it sits.
        assert_eq!(org_name("SA Logística"), "logistica");
    }

    #[test]
    fn enye_is_kept_at_the_exact_level_and_folded_below() {
        assert_ne!(fold_keep_enye("Peña"), fold_keep_enye("Pena"));
        assert_eq!(fold("Peña"), fold("Pena"));
        assert_eq!(fold_keep_enye("NÚÑEZ"), "nuñez");
    }

    #[test]
    fn person_names_ignore_order() {
        assert_eq!(
            person_name("López García, José"),
            person_name("JOSE LOPEZ GARCIA")
        );
    }

    #[test]
    fn phonetic_key_hears_spanish() {
        assert_eq!(phonetic("Vázquez"), phonetic("Basques"));
        assert_eq!(phonetic("Gutiérrez"), phonetic("Gutierres"));
        assert_eq!(phonetic("Hernández"), phonetic("Ernandes"));
        assert_eq!(phonetic("Yolanda"), phonetic("Llolanda"));
        assert_ne!(phonetic("Pérez"), phonetic("Ramírez"));
    }

    #[test]
    fn rfc_parts_and_check_character() {
        let p = rfc("QPA-010101-AB4").unwrap();
        assert_eq!(p.letters, "QPA");
        assert_eq!(p.date, "010101");
        assert_eq!(p.homoclave, "AB");
        assert_eq!(p.root(), "QPA010101");
        let expected = rastro_core::Rfc::check_char(&"QPA010101AB".chars().collect::<Vec<_>>());
        assert_eq!(p.check_ok, expected == Some('4'));
        assert!(rfc("XAXX010101000").is_none());
        assert!(rfc("000000000000").is_none());
        assert!(rfc("QPA01010").is_none());
    }

    #[test]
    fn mexican_phones_normalise() {
        for p in [
            "+52 1 33 1234 5678",
            "044 33 1234 5678",
            "01 (33) 1234-5678",
            "3312345678",
            "+52 (33) 1234 5678",
            "0052 33 12345678",
        ] {
            assert_eq!(phone(p).as_deref(), Some("3312345678"), "{p}");
        }
        assert_eq!(area_code("3312345678"), Some("33"));
        assert_eq!(area_code("6621234567"), Some("662"));
        assert_eq!(phone("0000000000"), None);
        assert_eq!(phone("1234"), None);
        // A short number after the country code still loses the code.
        assert_eq!(phone("+52 55 305 5257"), phone("553055257"));
        assert_eq!(phone("52-55-3055257"), phone("553055257"));
    }

    #[test]
    fn addresses_split() {
        let a = address("Av. Industria 245, Col. Industrial Vallejo, C.P. 44100");
        assert_eq!(a.street, "industria");
        assert_eq!(a.number, "245");
        assert_eq!(a.colonia, "industrial vallejo");
        assert_eq!(a.postcode, "44100");
        let b = address("Calle 5 de Mayo 12 Fracc. Las Flores");
        assert_eq!(b.street, "5 de mayo");
        assert_eq!(b.number, "12");
        assert_eq!(b.colonia, "las flores");
    }

    #[test]
    fn dates_and_identifiers() {
        assert_eq!(date("1999-02-19").as_deref(), Some("19990219"));
        assert_eq!(date("19/02/1999").as_deref(), Some("19990219"));
        assert_eq!(date("19990219").as_deref(), Some("19990219"));
        assert_eq!(date("00000000"), None);
        assert_eq!(identifier("0000000"), None);
        assert_eq!(identifier("9999999"), None);
        assert_eq!(identifier("5").as_deref(), Some("5"));
        assert_eq!(identifier(" 69-88 048").as_deref(), Some("6988048"));
    }
}
