//! The simulator's configuration: every knob, with its default, in one documented TOML text.
//! `rastro simulate --print-config` prints [`DEFAULT_CONFIG`] verbatim.

use serde::{Deserialize, Serialize};

/// The default configuration, with a comment on every knob.
pub const DEFAULT_CONFIG: &str = r#"# Rastro simulator configuration. Every value here is the default.
# Scale presets (small, medium, national) override `consignments`, `period_days` and `labs`;
# difficulty presets (easy, medium, hard) override the world's realism knobs (see
# `Difficulty`): medium is this file.

# Random seed: the same seed and configuration give byte-identical output.
seed = 42
# First day of the simulated period (RFC 3339, UTC).
start = "2026-01-05T00:00:00Z"
# Declared imports of watched chemicals over the period.
consignments = 300
period_days = 60
# Clandestine laboratories placed in urban neighbourhoods.
labs = 4

[trucks]
# Seconds between GPS tracker reports.
report_interval_s = 60
# Standard deviation of GPS position noise, metres.
gps_noise_m = 8.0
# Probability that a single GPS report is lost.
gps_dropout = 0.01
# Cruising speed range, km/h.
speed_kmh_min = 55.0
speed_kmh_max = 85.0
# Drivers rest at the next rest stop or fuel station after this many hours of driving.
rest_after_h = 3.5
rest_min_s = 1200
rest_max_s = 3000
# Probability that a checkpoint or toll-plaza camera reads a passing plate.
plate_read_prob = 0.95
# Probability that a trip gets one aerial sighting (surveillance flights are sparse).
aerial_prob = 0.15

[roads]
# The simulator's own roads (never the analytics' map): lateral wander of road geometry
# (0 straight, 1 ordinary, 2 mountain roads), cities of at least this population with a ring
# road that through traffic takes, the share of trucks whose carrier prefers an alternative
# corridor, and the share of rest stops and fuel stations the place registry lists (toll
# plazas and checkpoints are always listed).
meander = 1.0
ring_min_population = 1000000
alternative_share = 0.25
registry_listed = 0.8

[diversion]
# Fraction of consignments diverted by each scenario (multi-typology where the scenario is).
detour_to_lab = 0.015        # route_deviation + unscheduled_stop + quantity_shortfall
stop_en_route = 0.015        # unscheduled_stop + quantity_shortfall
dark_stop = 0.012            # tracking_gap + quantity_shortfall
undeclared_delivery = 0.010  # undeclared_destination
misdeclared = 0.010          # mis_declaration
front_consignee = 0.010      # front_consignee
structuring = 0.010          # structuring (groups of 3-5 small imports by linked parties)
# Shortfall range for diverted loads, as a fraction of the declared quantity.
shortfall_min = 0.10
shortfall_max = 0.40
# Stop range at a lab, seconds.
lab_stop_min_s = 2400
lab_stop_max_s = 7200
# A structuring group stays under this per-import quantity (kg) and passes it together.
structuring_threshold_kg = 100.0

[noise]
# Legitimate events that look suspicious, as fractions of legitimate consignments.
breakdown = 0.03             # long stop on the open road
battery_failure = 0.03       # tracker silent for 1-3 h while the truck keeps driving
traffic_stop = 0.30          # short stop (3-12 min) on the road
unlisted_truck_stop = 0.05   # 30-90 min rest at a city's truck stop that no registry lists
late = 0.05                  # slow trip, delivered late
new_legit_customer = 0.02    # recently registered consignee at an industrial address
small_shortfall = 0.10       # received quantity short by less than 0.5 %

[reports]
true_tips_per_lab = 2
# False tips per 100 consignments.
false_tips_per_100 = 2.0
equipment_per_lab = 2
legit_equipment_per_100 = 1.0
seizures_per_lab = 3
batches_per_lab = 3

[parties]
# Each real-world party appears as 1 to this many records with variations of its name,
# phone and address, as different agencies record it.
max_records_per_entity = 3
"#;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub seed: u64,
    pub start: String,
    pub consignments: usize,
    pub period_days: u32,
    pub labs: usize,
    pub trucks: Trucks,
    pub roads: RoadsCfg,
    pub diversion: Diversion,
    pub noise: Noise,
    pub reports: Reports,
    pub parties: Parties,
    #[serde(default)]
    pub forensics: ForensicsCfg,
}

/// Impurity profiles of seized samples (docs/simulator.md, "Forensic profiles").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForensicsCfg {
    /// Samples analysed per seizure: 1 to this many (replicates of one batch).
    pub max_samples_per_seizure: u32,
    /// Street seizures in a lab's own city (what ties a group of seizures to a place).
    pub local_seizures_per_lab: u32,
    /// Laboratories outside the scenario whose product is also seized (unlinked background).
    pub background_labs: u32,
    pub seizures_per_background_lab: u32,
    /// The forensic laboratory's reference collection: closed cases of known provenance.
    pub reference_cases: u32,
    pub reference_samples_per_case: u32,
    /// Log-normal spread of a lab's compound levels around its route's typical ones.
    pub lab_spread: f64,
    /// Log-normal drift of each compound from batch to batch.
    pub batch_drift: f64,
    /// Log-normal measurement noise per peak.
    pub measurement_noise: f64,
    /// Peaks below this area (after dilution) are not detected.
    pub detection_limit: f64,
}

impl Default for ForensicsCfg {
    fn default() -> Self {
        ForensicsCfg {
            max_samples_per_seizure: 3,
            local_seizures_per_lab: 2,
            background_labs: 8,
            seizures_per_background_lab: 2,
            reference_cases: 40,
            reference_samples_per_case: 4,
            lab_spread: 0.9,
            batch_drift: 0.12,
            measurement_noise: 0.06,
            detection_limit: 25.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trucks {
    pub report_interval_s: u32,
    pub gps_noise_m: f64,
    pub gps_dropout: f64,
    pub speed_kmh_min: f64,
    pub speed_kmh_max: f64,
    pub rest_after_h: f64,
    pub rest_min_s: u32,
    pub rest_max_s: u32,
    pub plate_read_prob: f64,
    pub aerial_prob: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadsCfg {
    pub meander: f64,
    pub ring_min_population: u64,
    pub alternative_share: f64,
    pub registry_listed: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diversion {
    pub detour_to_lab: f64,
    pub stop_en_route: f64,
    pub dark_stop: f64,
    pub undeclared_delivery: f64,
    pub misdeclared: f64,
    pub front_consignee: f64,
    pub structuring: f64,
    pub shortfall_min: f64,
    pub shortfall_max: f64,
    pub lab_stop_min_s: u32,
    pub lab_stop_max_s: u32,
    pub structuring_threshold_kg: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    pub breakdown: f64,
    pub battery_failure: f64,
    pub traffic_stop: f64,
    /// A rest at a truck stop on a city's edge that the place registry does not list (as in
    /// any real registry); every carrier passing the city may use it.
    #[serde(default)]
    pub unlisted_truck_stop: f64,
    pub late: f64,
    pub new_legit_customer: f64,
    pub small_shortfall: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reports {
    pub true_tips_per_lab: u32,
    pub false_tips_per_100: f64,
    pub equipment_per_lab: u32,
    pub legit_equipment_per_100: f64,
    pub seizures_per_lab: u32,
    pub batches_per_lab: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parties {
    pub max_records_per_entity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Small,
    Medium,
    National,
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "small" => Some(Scale::Small),
            "medium" => Some(Scale::Medium),
            "national" => Some(Scale::National),
            _ => None,
        }
    }
}

/// How hard the world is on the analytics: road geometry, registry completeness, telemetry
/// quality and benign anomalies. `Medium` is the default configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difficulty {
    /// Gently curved roads, no ring roads or alternative corridors, a complete registry, clean
    /// telemetry, few benign anomalies.
    Easy,
    Medium,
    /// Winding roads, ring roads round every large city, half the carriers on alternative
    /// corridors, a registry missing four in ten rest stops, noisy sparse telemetry (2 min
    /// reports, 15 m noise, 3% lost), more breakdowns, flat batteries and unlisted truck stops.
    Hard,
}

impl Difficulty {
    pub fn parse(s: &str) -> Option<Difficulty> {
        match s {
            "easy" => Some(Difficulty::Easy),
            "medium" => Some(Difficulty::Medium),
            "hard" => Some(Difficulty::Hard),
            _ => None,
        }
    }
}

/// The knobs a difficulty level sets, and nothing else: volumes, seed, speeds, the diversion
/// mix and every other knob keep the values they had (a `--config` file's included).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Realism {
    meander: f64,
    ring_min_population: u64,
    alternative_share: f64,
    registry_listed: f64,
    unlisted_truck_stop: f64,
    breakdown: f64,
    battery_failure: f64,
    gps_noise_m: f64,
    gps_dropout: f64,
    report_interval_s: u32,
    plate_read_prob: f64,
}

impl Difficulty {
    /// The level's knobs; `Medium` is the default configuration's (tested).
    fn realism(self) -> Realism {
        match self {
            Difficulty::Easy => Realism {
                meander: 0.3,
                ring_min_population: u64::MAX,
                alternative_share: 0.0,
                registry_listed: 1.0,
                unlisted_truck_stop: 0.01,
                breakdown: 0.01,
                battery_failure: 0.01,
                gps_noise_m: 5.0,
                gps_dropout: 0.005,
                report_interval_s: 60,
                plate_read_prob: 0.95,
            },
            Difficulty::Medium => Realism {
                meander: 1.0,
                ring_min_population: 1_000_000,
                alternative_share: 0.25,
                registry_listed: 0.8,
                unlisted_truck_stop: 0.05,
                breakdown: 0.03,
                battery_failure: 0.03,
                gps_noise_m: 8.0,
                gps_dropout: 0.01,
                report_interval_s: 60,
                plate_read_prob: 0.95,
            },
            Difficulty::Hard => Realism {
                meander: 2.0,
                ring_min_population: 500_000,
                alternative_share: 0.5,
                registry_listed: 0.6,
                unlisted_truck_stop: 0.10,
                breakdown: 0.05,
                battery_failure: 0.05,
                gps_noise_m: 15.0,
                gps_dropout: 0.03,
                report_interval_s: 120,
                plate_read_prob: 0.8,
            },
        }
    }
}

impl Config {
    /// Sets the realism knobs of a difficulty level (only those: see [`Realism`]).
    pub fn apply_difficulty(&mut self, d: Difficulty) {
        let r = d.realism();
        self.roads.meander = r.meander;
        self.roads.ring_min_population = r.ring_min_population;
        self.roads.alternative_share = r.alternative_share;
        self.roads.registry_listed = r.registry_listed;
        self.noise.unlisted_truck_stop = r.unlisted_truck_stop;
        self.noise.breakdown = r.breakdown;
        self.noise.battery_failure = r.battery_failure;
        self.trucks.gps_noise_m = r.gps_noise_m;
        self.trucks.gps_dropout = r.gps_dropout;
        self.trucks.report_interval_s = r.report_interval_s;
        self.trucks.plate_read_prob = r.plate_read_prob;
    }

    /// What a run cannot use: a knob outside its range, named with the range it must be in.
    pub fn check(&self) -> Result<(), String> {
        let within = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} = {v}: must be between {lo} and {hi}"))
            }
        };
        within("roads.meander", self.roads.meander, 0.0, 5.0)?;
        within(
            "roads.alternative_share",
            self.roads.alternative_share,
            0.0,
            1.0,
        )?;
        within(
            "roads.registry_listed",
            self.roads.registry_listed,
            0.0,
            1.0,
        )?;
        Ok(())
    }

    pub fn default_config() -> Config {
        // DEFAULT_CONFIG is a constant checked by a unit test, so parsing it cannot fail.
        toml::from_str(DEFAULT_CONFIG).expect("DEFAULT_CONFIG parses (tested)")
    }

    pub fn from_toml(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn apply_scale(&mut self, scale: Scale) {
        let (c, d, l) = match scale {
            Scale::Small => (300, 60, 4),
            Scale::Medium => (10_000, 180, 25),
            Scale::National => (100_000, 365, 80),
        };
        self.consignments = c;
        self.period_days = d;
        self.labs = l;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn default_config_parses_and_round_trips() {
        let c = Config::default_config();
        assert_eq!(c.consignments, 300);
        let again: Config = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(again.trucks.report_interval_s, 60);
        assert!(Config::from_toml("seed = 1\nbogus = 2").is_err());
    }

    #[test]
    fn a_difficulty_sets_only_its_knobs_and_medium_is_the_default() {
        let base = Config::default_config();
        let mut medium = base.clone();
        medium.apply_difficulty(Difficulty::Medium);
        assert_eq!(
            toml::to_string(&medium).unwrap(),
            toml::to_string(&base).unwrap()
        );
        // A knob no level sets (here from a --config file) survives every level.
        let mut c = base.clone();
        c.trucks.aerial_prob = 0.5;
        c.noise.late = 0.3;
        c.apply_difficulty(Difficulty::Hard);
        assert_eq!((c.trucks.aerial_prob, c.noise.late), (0.5, 0.3));
        assert_eq!(c.trucks.report_interval_s, 120);
        c.apply_difficulty(Difficulty::Easy);
        assert_eq!((c.trucks.aerial_prob, c.noise.late), (0.5, 0.3));
        assert!(c.check().is_ok());
    }

    #[test]
    fn out_of_range_road_knobs_are_rejected_by_name() {
        let mut c = Config::default_config();
        c.roads.registry_listed = 1.5;
        let e = c.check().unwrap_err();
        assert!(e.contains("roads.registry_listed = 1.5"), "{e}");
        c.roads.registry_listed = 0.8;
        c.roads.meander = f64::NAN;
        assert!(c.check().unwrap_err().contains("roads.meander"));
    }
}
