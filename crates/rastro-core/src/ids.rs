//! Validating constructors for the identifiers of BRIEF section 4.
//!
//! Each type can only be built from a value that passed validation, so code holding a `Cas`
//! or a `ContainerNumber` never re-checks it. Parsing normalises harmless variation (case,
//! separators) and rejects everything else with an [`IdError`] that says what rule failed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why a value is not a valid identifier of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    pub kind: &'static str,
    pub value: String,
    pub reason: String,
}

impl IdError {
    fn new(kind: &'static str, value: &str, reason: impl Into<String>) -> Self {
        // Bound the echoed value so a hostile 10 MB field does not become a 10 MB message.
        let value: String = value.chars().take(64).collect();
        IdError {
            kind,
            value,
            reason: reason.into(),
        }
    }
}

macro_rules! string_id {
    ($name:ident, $kind:literal) => {
        impl $name {
            /// The normalised text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $name::parse(s)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn digit_values(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

/// CAS Registry Number, `NNNNNNN-NN-N`: 2–7 digits, 2 digits, one check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cas(String);
string_id!(Cas, "CAS number");

impl Cas {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let e = |r: &str| IdError::new("CAS number", s, r);
        let t = s.trim();
        let parts: Vec<&str> = t.split('-').collect();
        if parts.len() != 3 {
            return Err(e("expected three hyphen-separated groups, like 21409-26-7"));
        }
        let (a, b, c) = (parts[0], parts[1], parts[2]);
        if !(2..=7).contains(&a.len()) || b.len() != 2 || c.len() != 1 {
            return Err(e("groups must have 2-7, 2 and 1 digits"));
        }
        let body = digit_values(&format!("{a}{b}")).ok_or_else(|| e("only digits are allowed"))?;
        let check = c
            .chars()
            .next()
            .and_then(|ch| ch.to_digit(10))
            .ok_or_else(|| e("the check digit must be a digit"))?;
        if a.starts_with('0') {
            return Err(e("the first group has a leading zero"));
        }
        let expected = Self::check_digit(&body);
        if expected != check {
            return Err(e(&format!("check digit is {check}, expected {expected}")));
        }
        Ok(Cas(t.to_string()))
    }

    /// Sum of the digits from the right, weighted 1, 2, 3, ..., modulo 10.
    pub fn check_digit(body: &[u32]) -> u32 {
        body.iter()
            .rev()
            .enumerate()
            .map(|(i, d)| (i as u32 + 1) * d)
            .sum::<u32>()
            % 10
    }
}

/// Harmonized System code: 6 digits, optionally extended by national digits (up to 10 in
/// all, as Mexico's 8-digit tariff fraction plus 2-digit NICO). Stored as digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HsCode(String);
string_id!(HsCode, "HS code");

impl HsCode {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let e = |r: &str| IdError::new("HS code", s, r);
        let digits: String = s
            .trim()
            .chars()
            .filter(|c| *c != '.' && *c != ' ')
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(e("only digits and dots are allowed"));
        }
        if !matches!(digits.len(), 6 | 8 | 10) {
            return Err(e(
                "expected 6 digits (international) or 8 or 10 (national extension)",
            ));
        }
        let chapter: u32 = digits[..2].parse().map_err(|_| e("bad chapter"))?;
        if !(1..=97).contains(&chapter) {
            return Err(e("chapter (first two digits) must be 01-97"));
        }
        Ok(HsCode(digits))
    }

    /// The international 6-digit subheading, e.g. `293339`.
    pub fn subheading(&self) -> &str {
        &self.0[..6]
    }

    /// The subheading in the usual dotted form, e.g. `2933.39`.
    pub fn dotted_subheading(&self) -> String {
        format!("{}.{}", &self.0[..4], &self.0[4..6])
    }
}

const ISO3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ \
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// ISO 3166-1 alpha-2 country code (officially assigned codes only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country(String);
string_id!(Country, "country code");

impl Country {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        if t.len() != 2 || !t.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(IdError::new(
                "country code",
                s,
                "expected two letters (ISO 3166-1 alpha-2)",
            ));
        }
        if !Self::is_assigned(&t) {
            return Err(IdError::new(
                "country code",
                s,
                "not an officially assigned ISO 3166-1 alpha-2 code",
            ));
        }
        Ok(Country(t))
    }

    pub fn is_assigned(code: &str) -> bool {
        ISO3166_ALPHA2.split_ascii_whitespace().any(|c| c == code)
    }

    /// Every officially assigned code, for generators and tests.
    pub fn all() -> impl Iterator<Item = &'static str> {
        ISO3166_ALPHA2.split_ascii_whitespace()
    }
}

/// UN/LOCODE: ISO 3166 country + 3 characters (letters or digits 2-9), e.g. `MXZLO`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnLocode(String);
string_id!(UnLocode, "UN/LOCODE");

impl UnLocode {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t: String = s
            .trim()
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        if t.len() != 5 || !t.is_ascii() {
            return Err(IdError::new(
                "UN/LOCODE",
                s,
                "expected 5 characters: country + 3-character location, like MXZLO",
            ));
        }
        Country::parse(&t[..2]).map_err(|_| {
            IdError::new(
                "UN/LOCODE",
                s,
                "the first two letters are not an ISO 3166 country",
            )
        })?;
        if !t[2..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='9').contains(&c))
        {
            return Err(IdError::new(
                "UN/LOCODE",
                s,
                "location part may only hold letters and digits 2-9",
            ));
        }
        Ok(UnLocode(t))
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

/// ISO 6346 container number: owner code (3 letters), category (U, J or Z), 6-digit serial,
/// check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerNumber(String);
string_id!(ContainerNumber, "container number");

impl ContainerNumber {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let e = |r: String| IdError::new("container number", s, r);
        let t: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        if t.len() != 11 || !t.is_ascii() {
            return Err(e(
                "expected 11 characters: 4 letters, 6 digits, check digit (like CSQU3054383)"
                    .into(),
            ));
        }
        let b = t.as_bytes();
        if !b[..4].iter().all(u8::is_ascii_uppercase) {
            return Err(e("the first four characters must be letters".into()));
        }
        if !matches!(b[3], b'U' | b'J' | b'Z') {
            return Err(e(
                "the fourth letter (equipment category) must be U, J or Z".into(),
            ));
        }
        if !b[4..].iter().all(u8::is_ascii_digit) {
            return Err(e("characters 5-11 must be digits".into()));
        }
        let given = u32::from(b[10] - b'0');
        match Self::check_digit(&t[..10]) {
            None => Err(e("owner code and serial give remainder 10, which ISO 6346 does not allow to be issued".into())),
            Some(c) if c != given => Err(e(format!("check digit is {given}, expected {c}"))),
            Some(_) => Ok(ContainerNumber(t)),
        }
    }

    fn letter_value(c: u8) -> u32 {
        // A=10 and upwards, skipping multiples of 11 (11, 22, 33).
        let mut v = 10;
        let mut l = b'A';
        while l < c {
            v += 1;
            if v % 11 == 0 {
                v += 1;
            }
            l += 1;
        }
        v
    }

    /// The check digit of the first ten characters, or `None` when the remainder is 10.
    pub fn check_digit(first10: &str) -> Option<u32> {
        let sum: u32 = first10
            .bytes()
            .enumerate()
            .map(|(i, c)| {
                let v = if c.is_ascii_digit() {
                    u32::from(c - b'0')
                } else {
                    Self::letter_value(c)
                };
                v << i
            })
            .sum();
        match sum % 11 {
            10 => None,
            r => Some(r),
        }
    }
}

/// IMO ship identification number: 7 digits, the last a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Imo(String);
string_id!(Imo, "IMO number");

impl Imo {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim();
        let t = t.strip_prefix("IMO").map(str::trim).unwrap_or(t);
        let d = digit_values(t)
            .filter(|d| d.len() == 7)
            .ok_or_else(|| IdError::new("IMO number", s, "expected 7 digits"))?;
        let c = Self::check_digit(&d[..6]);
        if c != d[6] {
            return Err(IdError::new(
                "IMO number",
                s,
                format!("check digit is {}, expected {c}", d[6]),
            ));
        }
        Ok(Imo(t.to_string()))
    }

    /// Sum of the first six digits weighted 7, 6, 5, 4, 3, 2, modulo 10.
    pub fn check_digit(first6: &[u32]) -> u32 {
        first6
            .iter()
            .zip((2..=7).rev())
            .map(|(d, w)| d * w)
            .sum::<u32>()
            % 10
    }
}

/// Maritime Mobile Service Identity: 9 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mmsi(String);
string_id!(Mmsi, "MMSI");

impl Mmsi {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim();
        if t.len() != 9 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::new("MMSI", s, "expected 9 digits"));
        }
        Ok(Mmsi(t.to_string()))
    }
}

const RFC_ALPHABET: &str = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ";

/// Mexican RFC (Registro Federal de Contribuyentes): 12 characters for companies
/// (3 letters), 13 for persons (4 letters), then YYMMDD and a 3-character homoclave whose
/// last character is a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rfc(String);
string_id!(Rfc, "RFC");

impl Rfc {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let e = |r: String| IdError::new("RFC", s, r);
        let t: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .flat_map(char::to_uppercase)
            .collect();
        let chars: Vec<char> = t.chars().collect();
        let letters = match chars.len() {
            12 => 3,
            13 => 4,
            n => {
                return Err(e(format!(
                    "expected 12 characters (company) or 13 (person), got {n}"
                )))
            }
        };
        if !chars[..letters]
            .iter()
            .all(|c| c.is_ascii_uppercase() || *c == '&' || *c == 'Ñ')
        {
            return Err(e(format!("the first {letters} characters must be letters")));
        }
        let date: String = chars[letters..letters + 6].iter().collect();
        if !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(e(
                "characters after the letters must be a date YYMMDD".into()
            ));
        }
        let (mm, dd): (u32, u32) = (
            date[2..4].parse().unwrap_or(0),
            date[4..6].parse().unwrap_or(0),
        );
        let yy: i32 = date[..2].parse().unwrap_or(0);
        // The century is not in the RFC; any leap-year check uses the 2000s, which agrees with
        // the 1900s for every year but 1900 itself.
        if chrono::NaiveDate::from_ymd_opt(2000 + yy, mm, dd).is_none() {
            return Err(e(format!("{date} is not a valid date YYMMDD")));
        }
        let homoclave = &chars[letters + 6..];
        if !homoclave
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(e("the homoclave must be letters or digits".into()));
        }
        let expected = Self::check_char(&chars[..chars.len() - 1])
            .ok_or_else(|| e("unexpected character".into()))?;
        let given = chars[chars.len() - 1];
        if expected != given {
            return Err(e(format!(
                "check character is {given}, expected {expected}"
            )));
        }
        Ok(Rfc(t))
    }

    /// SAT's check character over the first 11 (company) or 12 (person) characters.
    pub fn check_char(body: &[char]) -> Option<char> {
        let mut padded: Vec<char> = Vec::with_capacity(12);
        if body.len() == 11 {
            padded.push(' ');
        }
        padded.extend_from_slice(body);
        if padded.len() != 12 {
            return None;
        }
        let mut sum = 0u32;
        for (i, c) in padded.iter().enumerate() {
            let v = RFC_ALPHABET.chars().position(|a| a == *c)? as u32;
            sum += v * (13 - i as u32);
        }
        Some(match 11 - sum % 11 {
            11 => '0',
            10 => 'A',
            d => char::from_digit(d, 10)?,
        })
    }

    pub fn is_company(&self) -> bool {
        self.0.chars().count() == 12
    }
}

/// A WGS84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

impl Position {
    pub fn new(lat: f64, lon: f64) -> Result<Self, IdError> {
        let v = format!("{lat},{lon}");
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(IdError::new(
                "position",
                &v,
                "latitude must be between -90 and 90",
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(IdError::new(
                "position",
                &v,
                "longitude must be between -180 and 180",
            ));
        }
        Ok(Position { lat, lon })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_chemicals_have_valid_cas() {
        for c in [
            "21409-26-7",
            "39742-60-4",
            "23056-29-3",
            "125541-22-2",
            "1609-66-1",
            "41661-47-6",
            "79099-07-3",
            "7732-18-5",
        ] {
            Cas::parse(c).unwrap();
        }
        assert!(Cas::parse("21409-26-8").is_err());
        assert!(Cas::parse("2140926-7").is_err());
    }

    #[test]
    fn known_container_and_imo() {
        ContainerNumber::parse("CSQU3054383").unwrap();
        ContainerNumber::parse("csqu 305438-3").unwrap();
        assert!(ContainerNumber::parse("CSQU3054384").is_err());
        assert!(ContainerNumber::parse("CSQX3054383").is_err());
        Imo::parse("9074729").unwrap();
        Imo::parse("IMO 9074729").unwrap();
        assert!(Imo::parse("9074728").is_err());
    }

    #[test]
    fn rfc_examples() {
        // Example person RFC used in SAT's own documentation.
        Rfc::parse("GODE561231GR8").unwrap();
        assert!(Rfc::parse("GODE561231GR9").is_err());
        assert!(Rfc::parse("GODE561331GR8").is_err());
    }

    #[test]
    fn locode_hs_country() {
        assert_eq!(UnLocode::parse("mx zlo").unwrap().as_str(), "MXZLO");
        assert!(UnLocode::parse("XXZLO").is_err());
        assert!(UnLocode::parse("MXZL1").is_err());
        assert_eq!(HsCode::parse("2933.39").unwrap().as_str(), "293339");
        assert_eq!(
            HsCode::parse("2933399901").unwrap().dotted_subheading(),
            "2933.39"
        );
        assert!(HsCode::parse("2933.3").is_err());
        assert!(HsCode::parse("9933.39").is_err());
        assert_eq!(Country::all().count(), 249);
        assert!(Country::parse("mx").is_ok());
        assert!(Country::parse("XK").is_err());
    }

    #[test]
    fn positions() {
        assert!(Position::new(95.0, 0.0).is_err());
        assert!(Position::new(0.0, -181.0).is_err());
        assert!(Position::new(f64::NAN, 0.0).is_err());
        assert!(Position::new(19.06, -104.3).is_ok());
    }
}
