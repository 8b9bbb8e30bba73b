//! Synthetic Spanish names, addresses, phones and RFCs, with the variation real records of one
//! entity show (accents dropped, company suffix spellings, typos, abbreviations, reordered
//! person names, phone formats). Every name is synthetic; ids of synthetic parties start with
//! `SYN-`.

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rastro_core::Rfc;

const PREFIX: &[&str] = &[
    "Química",
    "Farmacéutica",
    "Industrias",
    "Laboratorios",
    "Distribuidora",
    "Comercializadora",
    "Grupo",
    "Productos",
    "Síntesis",
    "Reactivos",
];
const CORE: &[&str] = &[
    "Andina",
    "Azteca",
    "del Pacífico",
    "del Golfo",
    "del Bajío",
    "Norteña",
    "Central",
    "Moderna",
    "Integral",
    "Avanzada",
    "Orozco",
    "Santa Fe",
    "Aurora",
    "Valle Verde",
    "Occidente",
    "Tecnológica",
    "Nacional",
    "Sierra Madre",
    "Los Altos",
    "Mar de Cortés",
];
const GIVEN: &[&str] = &[
    "José",
    "Luis",
    "María",
    "Juan",
    "Ana",
    "Carlos",
    "Guadalupe",
    "Jorge",
    "Rosa",
    "Miguel",
    "Fernanda",
    "Héctor",
    "Verónica",
    "Raúl",
    "Sofía",
    "Andrés",
    "Patricia",
    "Óscar",
    "Lucía",
    "Ramón",
];
const SURNAME: &[&str] = &[
    "López",
    "Martínez",
    "García",
    "Hernández",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Jiménez",
    "Reyes",
    "Díaz",
    "Torres",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Castillo",
    "Núñez",
];
const STREET: &[&str] = &[
    "Av. Industria",
    "Calle Hidalgo",
    "Av. Juárez",
    "Calle Morelos",
    "Blvd. Aeropuerto",
    "Calle 5 de Mayo",
    "Av. Revolución",
    "Calle Allende",
    "Carretera Federal",
    "Av. Tecnológico",
    "Calle Zaragoza",
    "Privada Las Flores",
];

pub fn strip_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'Á' => 'A',
            'É' => 'E',
            'Í' => 'I',
            'Ó' => 'O',
            'Ú' | 'Ü' => 'U',
            'ñ' => 'n',
            'Ñ' => 'N',
            c => c,
        })
        .collect()
}

pub struct Company {
    pub base: String,
    pub rfc: Rfc,
}

pub struct Person {
    pub given: String,
    pub surname1: String,
    pub surname2: String,
    pub rfc: Rfc,
}

fn alnum(rng: &mut ChaCha8Rng) -> char {
    const A: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ123456789";
    A[rng.random_range(0..A.len())] as char
}

fn make_rfc(letters: &str, date: (u32, u32, u32), rng: &mut ChaCha8Rng) -> Rfc {
    loop {
        let body = format!(
            "{letters}{:02}{:02}{:02}{}{}",
            date.0 % 100,
            date.1,
            date.2,
            alnum(rng),
            alnum(rng)
        );
        let chars: Vec<char> = body.chars().collect();
        if let Some(c) = Rfc::check_char(&chars) {
            // The generator only emits letters, digits and valid dates, so parsing succeeds;
            // loop again on the off chance it does not.
            if let Ok(r) = Rfc::parse(&format!("{body}{c}")) {
                return r;
            }
        }
    }
}

fn initials_of(s: &str, n: usize) -> String {
    let clean = strip_accents(s).to_uppercase();
    let mut out: String = clean
        .split_whitespace()
        .filter(|w| w.len() > 2)
        .filter_map(|w| w.chars().next())
        .collect();
    for c in clean.chars().filter(char::is_ascii_uppercase) {
        if out.len() >= n {
            break;
        }
        out.push(c);
    }
    out.chars().take(n).collect()
}

pub fn company(rng: &mut ChaCha8Rng, registered: (u32, u32, u32)) -> Company {
    let base = format!(
        "{} {}",
        PREFIX.choose(rng).copied().unwrap_or("Química"),
        CORE.choose(rng).copied().unwrap_or("Central")
    );
    let rfc = make_rfc(&initials_of(&base, 3), registered, rng);
    Company { base, rfc }
}

pub fn person(rng: &mut ChaCha8Rng, born: (u32, u32, u32)) -> Person {
    let given = GIVEN.choose(rng).copied().unwrap_or("José").to_string();
    let surname1 = SURNAME.choose(rng).copied().unwrap_or("López").to_string();
    let surname2 = SURNAME.choose(rng).copied().unwrap_or("Cruz").to_string();
    let s1 = strip_accents(&surname1).to_uppercase();
    let vowel = s1
        .chars()
        .skip(1)
        .find(|c| "AEIOU".contains(*c))
        .unwrap_or('X');
    let letters = format!(
        "{}{}{}{}",
        s1.chars().next().unwrap_or('X'),
        vowel,
        strip_accents(&surname2).chars().next().unwrap_or('X'),
        strip_accents(&given).chars().next().unwrap_or('X')
    )
    .to_uppercase();
    let rfc = make_rfc(&letters, born, rng);
    Person {
        given,
        surname1,
        surname2,
        rfc,
    }
}

/// A company name as one source writes it: variant 0 is the canonical spelling.
pub fn company_variant(base: &str, variant: u32, rng: &mut ChaCha8Rng) -> String {
    match variant % 6 {
        0 => format!("{base}, S.A. de C.V."),
        1 => format!("{} SA DE CV", strip_accents(base).to_uppercase()),
        2 => format!("{base} S.A. DE C.V.")
            .replace("Química", "Quím.")
            .replace("Industrias", "Inds.")
            .replace("Laboratorios", "Labs."),
        3 => typo(&format!("{base} SA de CV"), rng),
        4 => format!("{} S. A. de C. V.", strip_accents(base)),
        _ => format!("{base} SAPI de CV"),
    }
}

pub fn person_variant(p: &Person, variant: u32, rng: &mut ChaCha8Rng) -> String {
    match variant % 5 {
        0 => format!("{} {} {}", p.given, p.surname1, p.surname2),
        1 => strip_accents(&format!("{} {} {}", p.surname1, p.surname2, p.given)).to_uppercase(),
        2 => format!("{} {}", p.given, p.surname1),
        3 => typo(&format!("{} {} {}", p.given, p.surname1, p.surname2), rng),
        _ => format!("{}, {} {}", p.surname1, p.given, p.surname2),
    }
}

/// Swaps two adjacent letters once, as a hurried clerk would.
pub fn typo(s: &str, rng: &mut ChaCha8Rng) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() > 4 {
        let i = rng.random_range(1..c.len() - 2);
        if c[i].is_alphabetic() && c[i + 1].is_alphabetic() {
            c.swap(i, i + 1);
        }
    }
    c.into_iter().collect()
}

pub fn phone(rng: &mut ChaCha8Rng, area: u32) -> (u32, u32) {
    (area, rng.random_range(1_000_000..9_999_999))
}

pub fn phone_variant(p: (u32, u32), variant: u32) -> String {
    let (a, n) = p;
    let s = format!("{n:07}");
    match variant % 4 {
        0 => format!("+52 {a} {} {}", &s[..3], &s[3..]),
        1 => format!("{a}{s}"),
        2 => format!("({a}) {}-{}", &s[..3], &s[3..]),
        _ => format!("52-{a}-{s}"),
    }
}

pub fn address(rng: &mut ChaCha8Rng, residential: bool) -> String {
    let street = STREET.choose(rng).copied().unwrap_or("Calle Hidalgo");
    let n = rng.random_range(1..900);
    if residential {
        format!(
            "{street} {n} int {}, Col. {}",
            rng.random_range(1..20),
            CORE.choose(rng).copied().unwrap_or("Centro")
        )
    } else {
        format!(
            "{street} {n}, Parque Industrial {}",
            CORE.choose(rng).copied().unwrap_or("Norte")
        )
    }
}

pub fn address_variant(a: &str, variant: u32) -> String {
    match variant % 3 {
        0 => a.to_string(),
        1 => strip_accents(a)
            .to_uppercase()
            .replace("AV.", "AVENIDA")
            .replace("INT", "INTERIOR"),
        _ => a.replace("Calle ", "C. ").replace(", ", " "),
    }
}

pub fn plate(rng: &mut ChaCha8Rng) -> String {
    let l = |rng: &mut ChaCha8Rng| (b'A' + rng.random_range(0..26u8)) as char;
    format!(
        "{}{}{}-{:04}-{}",
        l(rng),
        l(rng),
        l(rng),
        rng.random_range(0..10_000),
        l(rng)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rfcs_are_valid_and_names_vary() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            let c = company(&mut rng, (2015, 3, 1));
            assert!(c.rfc.is_company());
            let p = person(&mut rng, (1980, 1, 1));
            assert!(!p.rfc.is_company());
        }
        let c = company(&mut rng, (2015, 3, 1));
        let v: Vec<String> = (0..6)
            .map(|i| company_variant(&c.base, i, &mut rng))
            .collect();
        assert!(
            v.iter().collect::<std::collections::BTreeSet<_>>().len() >= 5,
            "{v:?}"
        );
    }
}
