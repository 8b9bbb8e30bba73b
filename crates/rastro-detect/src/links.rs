//! Links between party records that are (or act as) one party: the seam where entity
//! resolution plugs into structuring and front-consignee detection.

use rastro_core::Party;
use std::collections::BTreeMap;

/// Which party records belong together.
pub trait PartyLinks {
    /// A cluster key: records with the same key are linked. Unknown ids are their own cluster.
    fn cluster(&self, party_id: &str) -> String;

    /// How two linked records are linked, hop by hop, for an alert to name the links it used;
    /// `None` for the same record or records not linked.
    fn explain(&self, a: &str, b: &str) -> Option<String> {
        let _ = (a, b);
        None
    }
}

/// Links records that share a normalised identifier: RFC, phone number, or street address.
/// A deliberately simple, explainable baseline until full entity resolution lands.
pub struct IdentifierLinks {
    parent: BTreeMap<String, String>,
    /// Each record's normalised identifiers (`rfc:…`, `tel:…`, `addr:…`), to say why two
    /// records are linked.
    keys: BTreeMap<String, Vec<String>>,
}

/// Phone digits without the country code, so `+52 33 123 4567` and `(33) 123-4567` agree.
pub fn normalise_phone(p: &str) -> Option<String> {
    let d: String = p.chars().filter(char::is_ascii_digit).collect();
    let d = if d.len() > 10 && d.starts_with("52") {
        d[2..].to_string()
    } else {
        d
    };
    (d.len() >= 8).then_some(d)
}

/// Address reduced to lower-case letters and digits, without accents and common abbreviations.
pub fn normalise_address(a: &str) -> Option<String> {
    let lower = a.to_lowercase();
    let mut s = String::new();
    for c in lower.chars() {
        let c = match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' | 'ö' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() || c == ' ' {
            s.push(c);
        } else {
            s.push(' ');
        }
    }
    let words: Vec<&str> = s
        .split_whitespace()
        .filter(|w| {
            !matches!(
                *w,
                "av" | "avenida"
                    | "calle"
                    | "c"
                    | "col"
                    | "colonia"
                    | "int"
                    | "interior"
                    | "blvd"
                    | "no"
                    | "num"
            )
        })
        .collect();
    let out = words.join(" ");
    (out.len() >= 6).then_some(out)
}

impl IdentifierLinks {
    pub fn new<'a>(parties: impl IntoIterator<Item = &'a Party>) -> Self {
        let mut me = IdentifierLinks {
            parent: BTreeMap::new(),
            keys: BTreeMap::new(),
        };
        let mut first_with: BTreeMap<String, String> = BTreeMap::new();
        for p in parties {
            me.parent
                .entry(p.id.clone())
                .or_insert_with(|| p.id.clone());
            let mut keys = Vec::new();
            if let Some(r) = &p.rfc {
                keys.push(format!("rfc:{r}"));
            }
            if let Some(ph) = p.phone.as_deref().and_then(normalise_phone) {
                keys.push(format!("tel:{ph}"));
            }
            if let Some(a) = p.address.as_deref().and_then(normalise_address) {
                keys.push(format!("addr:{a}"));
            }
            me.keys
                .entry(p.id.clone())
                .or_default()
                .extend(keys.clone());
            for k in keys {
                match first_with.get(&k) {
                    Some(other) => {
                        let other = other.clone();
                        me.union(&p.id, &other);
                    }
                    None => {
                        first_with.insert(k, p.id.clone());
                    }
                }
            }
        }
        me
    }

    /// Why two records are linked, when they share an identifier directly: `phone 3312345678`,
    /// `RFC …`, `address …`. `None` for the same record, records linked only through others,
    /// or records not linked at all.
    pub fn shared(&self, a: &str, b: &str) -> Option<String> {
        if a == b {
            return None;
        }
        let kb = self.keys.get(b)?;
        let k = self.keys.get(a)?.iter().find(|k| kb.contains(k))?;
        let (kind, value) = k.split_once(':')?;
        let kind = match kind {
            "rfc" => "RFC",
            "tel" => "phone",
            _ => "address",
        };
        Some(format!("{kind} {value}"))
    }

    fn find(&self, id: &str) -> String {
        let mut cur = id.to_string();
        while let Some(p) = self.parent.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        cur
    }

    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller id becomes the root, so clusters do not depend on input order.
            let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent.insert(child, root);
        }
    }
}

impl PartyLinks for IdentifierLinks {
    fn cluster(&self, party_id: &str) -> String {
        self.find(party_id)
    }

    fn explain(&self, a: &str, b: &str) -> Option<String> {
        self.shared(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn linked_records_say_which_identifier_they_share() {
        let p = |id: &str, phone: Option<&str>, rfc: Option<&str>| Party {
            id: id.into(),
            originator: "SAT".into(),
            marking: rastro_core::Marking::new(rastro_core::Tlp::Amber),
            party_kind: rastro_core::PartyKind::Organisation,
            name: id.into(),
            rfc: rfc.map(|r| rastro_core::Rfc::parse(r).unwrap()),
            country: rastro_core::Country::parse("MX").unwrap(),
            address: None,
            city: None,
            phone: phone.map(str::to_string),
            registered: None,
            licence: None,
            watch_list: None,
            relations: Vec::new(),
        };
        let parties = [
            p("A", Some("+52 33 123 4567"), None),
            p("B", Some("(33) 123-4567"), Some("QPA010101AB4")),
            p("C", None, Some("QPA010101AB4")),
            p("D", Some("55 9999 0000"), None),
        ];
        let l = IdentifierLinks::new(parties.iter());
        assert_eq!(l.shared("A", "B").as_deref(), Some("phone 331234567"));
        assert_eq!(l.shared("B", "C").as_deref(), Some("RFC QPA010101AB4"));
        // A and C are one cluster through B, but share nothing directly.
        assert_eq!(l.cluster("A"), l.cluster("C"));
        assert_eq!(l.shared("A", "C"), None);
        assert_eq!(l.shared("A", "D"), None);
        assert_eq!(l.shared("A", "A"), None);
    }

    #[test]
    fn phones_and_addresses_normalise() {
        assert_eq!(
            normalise_phone("+52 33 123 4567"),
            normalise_phone("(33) 123-4567")
        );
        assert_eq!(normalise_phone("52-33-1234567"), Some("331234567".into()));
        assert_eq!(
            normalise_address("Av. Juárez 12 int 3, Col. Centro"),
            normalise_address("AVENIDA JUAREZ 12 INTERIOR 3 CENTRO")
        );
    }
}
