//! Units of quantity and their conversion to the two base units Rastro stores: kg and L.
//!
//! Mass and volume are never converted into each other: that needs a density the data
//! rarely gives, and a wrong guess would hide a quantity shortfall.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    Kg,
    L,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    #[serde(rename = "mg")]
    Mg,
    #[serde(rename = "g")]
    G,
    #[serde(rename = "kg")]
    Kg,
    #[serde(rename = "t")]
    Tonne,
    #[serde(rename = "lb")]
    Lb,
    #[serde(rename = "mL")]
    Ml,
    #[serde(rename = "L")]
    L,
    #[serde(rename = "m3")]
    M3,
    #[serde(rename = "gal")]
    UsGal,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "mg" => Unit::Mg,
            "g" => Unit::G,
            "kg" | "kgs" => Unit::Kg,
            "t" | "tonne" | "tonnes" | "mt" => Unit::Tonne,
            "lb" | "lbs" => Unit::Lb,
            "ml" => Unit::Ml,
            "l" | "lt" | "litre" | "liter" => Unit::L,
            "m3" => Unit::M3,
            "gal" => Unit::UsGal,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Mg => "mg",
            Unit::G => "g",
            Unit::Kg => "kg",
            Unit::Tonne => "t",
            Unit::Lb => "lb",
            Unit::Ml => "mL",
            Unit::L => "L",
            Unit::M3 => "m3",
            Unit::UsGal => "gal",
        }
    }

    /// The base unit and the factor that converts one of `self` into it.
    pub fn to_base(self) -> (Base, f64) {
        match self {
            Unit::Mg => (Base::Kg, 1e-6),
            Unit::G => (Base::Kg, 1e-3),
            Unit::Kg => (Base::Kg, 1.0),
            Unit::Tonne => (Base::Kg, 1000.0),
            Unit::Lb => (Base::Kg, 0.453_592_37),
            Unit::Ml => (Base::L, 1e-3),
            Unit::L => (Base::L, 1.0),
            Unit::M3 => (Base::L, 1000.0),
            Unit::UsGal => (Base::L, 3.785_411_784),
        }
    }

    /// Converts `value` of this unit to its base unit.
    pub fn convert(self, value: f64) -> (f64, Base) {
        let (b, f) = self.to_base();
        (value * f, b)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn conversions() {
        assert_eq!(Unit::parse("KG"), Some(Unit::Kg));
        assert_eq!(Unit::parse("furlong"), None);
        assert_eq!(Unit::Tonne.convert(2.5), (2500.0, Base::Kg));
        assert_eq!(Unit::Ml.convert(500.0), (0.5, Base::L));
    }
}
