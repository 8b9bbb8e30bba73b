//! The world's actors and places: ports, cities, roadside places, parties, customer sites,
//! laboratories.

#![allow(clippy::too_many_arguments)]

use super::*;

impl World<'_> {
    pub(super) fn period_ms(&self) -> i64 {
        i64::from(self.cfg.period_days) * 86_400_000
    }

    pub(super) fn new_place(
        &mut self,
        kind: PlaceKind,
        name: String,
        pos: Position,
        radius_m: f64,
        locode: Option<&str>,
        operator: Option<String>,
        marking: Marking,
    ) -> Result<String, SimError> {
        self.place_count += 1;
        let id = match kind {
            PlaceKind::Port
            | PlaceKind::City
            | PlaceKind::RestStop
            | PlaceKind::FuelStation
            | PlaceKind::Checkpoint
            | PlaceKind::TollPlaza => format!("PL-{:05}", self.place_count),
            _ => format!("SYN-PL-{:05}", self.place_count),
        };
        let p = Place {
            id: id.clone(),
            originator: "ANAM".into(),
            marking,
            place_kind: kind,
            name,
            position: pos,
            radius_m,
            locode: locode.and_then(|l| UnLocode::parse(l).ok()),
            country: Country::parse("MX").map_err(|e| SimError::Config(e.to_string()))?,
            operator,
            land_use: None,
            opening_hours: None,
            utc_offset_min: None,
        };
        self.out.record(&Record::Place(p))?;
        Ok(id)
    }

    /// Public places a deployment knows: ports, cities (with an urban radius), roadside places.
    pub(super) fn places(&mut self) -> Result<(), SimError> {
        for i in 0..self.g.ports.len() {
            let p = self.g.ports[i].clone();
            self.new_place(
                PlaceKind::Port,
                format!("Puerto de {}", p.name),
                p.pos,
                3000.0,
                Some(p.locode),
                None,
                m(Tlp::Clear, &[]),
            )?;
        }
        for c in 0..self.g.cities.len() {
            let city = self.g.cities[c].clone();
            let r = self.g.urban_radius_m(c);
            self.new_place(
                PlaceKind::City,
                city.name.clone(),
                city.pos,
                r,
                None,
                None,
                m(Tlp::Clear, &[]),
            )?;
        }
        for i in 0..self.roads.stops.len() {
            let r = self.roads.stops[i].clone();
            let kind = match r.kind {
                StopKind::Checkpoint => PlaceKind::Checkpoint,
                StopKind::TollPlaza => PlaceKind::TollPlaza,
                StopKind::RestStop => PlaceKind::RestStop,
                StopKind::FuelStation => PlaceKind::FuelStation,
            };
            // Registries miss places: rest stops and fuel stations now and then; toll plazas
            // and checkpoints, which their operators run, never.
            let listed = matches!(r.kind, StopKind::Checkpoint | StopKind::TollPlaza)
                || self.rng.random_bool(self.cfg.roads.registry_listed);
            if !listed {
                continue;
            }
            let id = self.new_place(
                kind,
                r.name.clone(),
                r.pos,
                400.0,
                None,
                None,
                m(Tlp::Clear, &[]),
            )?;
            self.roads.stops[i].place = Some(id);
        }
        Ok(())
    }

    pub(super) fn weighted_city(&mut self, industrial_only: bool) -> usize {
        let total: f64 = self
            .g
            .cities
            .iter()
            .filter(|c| !industrial_only || c.industrial)
            .map(|c| (c.population as f64).sqrt())
            .sum();
        let mut x = self.rng.random::<f64>() * total;
        for (i, c) in self.g.cities.iter().enumerate() {
            if industrial_only && !c.industrial {
                continue;
            }
            x -= (c.population as f64).sqrt();
            if x <= 0.0 {
                return i;
            }
        }
        0
    }

    /// Creates an entity and 1..=N party records for it, with realistic variation.
    pub(super) fn entity(
        &mut self,
        kind: PartyKind,
        city: usize,
        registered_ms: i64,
        residential: bool,
        licence: bool,
        share_phone: Option<(u32, u32)>,
    ) -> Result<usize, SimError> {
        let idx = self.entities.len();
        let eid = format!("E-{idx:06}");
        let reg = ymd(registered_ms);
        let area = *AREA_CODES.choose(&mut self.rng).unwrap_or(&55);
        let phone = share_phone.unwrap_or_else(|| names::phone(&mut self.rng, area));
        let address = names::address(&mut self.rng, residential);
        let n = if kind == PartyKind::Person {
            1
        } else {
            self.rng
                .random_range(1..=self.cfg.parties.max_records_per_entity.max(1))
        };
        let (company, person) = match kind {
            PartyKind::Organisation => (Some(names::company(&mut self.rng, reg)), None),
            PartyKind::Person => {
                let born = (
                    1960 + self.rng.random_range(0..40),
                    self.rng.random_range(1..13),
                    self.rng.random_range(1..29),
                );
                (None, Some(names::person(&mut self.rng, born)))
            }
        };
        let mut records = Vec::new();
        for v in 0..n {
            self.party_count += 1;
            let id = format!("SYN-P-{:06}", self.party_count);
            let (name, rfc) = match (&company, &person) {
                (Some(c), _) => (
                    names::company_variant(
                        &c.base,
                        if v == 0 {
                            0
                        } else {
                            self.rng.random_range(1..6)
                        },
                        &mut self.rng,
                    ),
                    c.rfc.clone(),
                ),
                (_, Some(p)) => (
                    names::person_variant(
                        p,
                        if v == 0 {
                            0
                        } else {
                            self.rng.random_range(1..5)
                        },
                        &mut self.rng,
                    ),
                    p.rfc.clone(),
                ),
                _ => continue,
            };
            let originator = ["ANAM", "SAT", "UIF"][v as usize % 3];
            let rec = Party {
                id: id.clone(),
                originator: originator.into(),
                marking: m(Tlp::Amber, &[]),
                party_kind: kind,
                name,
                // Not every agency records the tax id.
                rfc: (v == 0 || self.rng.random_bool(0.5)).then_some(rfc),
                country: Country::parse("MX").map_err(|e| SimError::Config(e.to_string()))?,
                address: Some(names::address_variant(&address, v)),
                city: Some(self.g.cities[city].name.clone()),
                phone: Some(names::phone_variant(phone, v + self.rng.random_range(0..2))),
                registered: (kind == PartyKind::Organisation)
                    .then(|| chrono::NaiveDate::from_ymd_opt(reg.0 as i32, reg.1, reg.2))
                    .flatten(),
                licence: (licence && v == 0).then(|| format!("LIC-{}-{:04}", reg.0, idx)),
                watch_list: None,
                relations: Vec::new(),
            };
            self.out.record(&Record::Party(rec))?;
            records.push(id);
        }
        Out::truth(
            &mut self.out.truth.entities,
            &serde_json::json!({"truth_kind": "entity", "entity": eid, "party_ids": records, "synthetic": true}),
        )?;
        self.entities.push(Entity {
            records,
            city,
            address,
        });
        Ok(idx)
    }

    pub(super) fn site_for(
        &mut self,
        entity: usize,
        city: usize,
        residential: bool,
    ) -> Result<usize, SimError> {
        let r = self.g.urban_radius_m(city);
        // Plants and homes are not next door to a laboratory (placed before them).
        let mut pos = self.g.urban_point(city, 0.0, 0.5 * r);
        for _ in 0..20 {
            let bearing = self.rng.random_range(0.0..360.0);
            let dist = self.rng.random_range(0.25..0.9) * r;
            pos = self.g.urban_point(city, bearing, dist);
            if !self
                .labs
                .iter()
                .any(|l| haversine_m(l.pos.lat, l.pos.lon, pos.lat, pos.lon) < 1000.0)
            {
                break;
            }
        }
        let (kind, name) = if residential {
            (
                PlaceKind::Residence,
                format!("Domicilio {}", self.entities[entity].address),
            )
        } else {
            (
                PlaceKind::Customer,
                format!("Planta {}", self.entities[entity].address),
            )
        };
        let operator = self.entities[entity].records.first().cloned();
        let place = self.new_place(kind, name, pos, 300.0, None, operator, m(Tlp::Amber, &[]))?;
        self.sites.push(Site {
            place,
            city,
            pos,
            entity,
        });
        Ok(self.sites.len() - 1)
    }

    pub(super) fn actors(&mut self) -> Result<(), SimError> {
        let n = self.cfg.consignments;
        let long_ago = self.start_ms - 10 * 365 * 86_400_000;
        for _ in 0..(n / 40).max(8) {
            let city = self.weighted_city(true);
            let reg = long_ago + self.rng.random_range(0..8 * 365) * 86_400_000;
            let e = self.entity(PartyKind::Organisation, city, reg, false, true, None)?;
            self.importers.push(e);
        }
        for _ in 0..(n / 25).max(15) {
            let city = self.weighted_city(true);
            let reg = long_ago + self.rng.random_range(0..8 * 365) * 86_400_000;
            let e = self.entity(PartyKind::Organisation, city, reg, false, false, None)?;
            self.consignees.push(e);
            self.site_for(e, city, false)?;
        }
        for _ in 0..(n / 150).max(8) {
            let city = self.weighted_city(true);
            let reg = long_ago + self.rng.random_range(0..8 * 365) * 86_400_000;
            let e = self.entity(PartyKind::Organisation, city, reg, false, false, None)?;
            self.carriers.push(e);
        }
        for _ in 0..(n / 20).max(10) {
            let city = self.weighted_city(false);
            let e = self.entity(PartyKind::Person, city, long_ago, true, false, None)?;
            self.drivers.push(e);
        }
        for i in 0..(n / 30).max(6) {
            let f6: Vec<u32> = (0..6)
                .map(|k| {
                    if k == 0 {
                        9
                    } else {
                        self.rng.random_range(0..10)
                    }
                })
                .collect();
            let c = Imo::check_digit(&f6);
            let text: String = f6
                .iter()
                .chain(std::iter::once(&c))
                .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
                .collect();
            if let Ok(imo) = Imo::parse(&text) {
                self.vessels.push((
                    imo,
                    format!(
                        "{}{:06}",
                        [352, 636, 538, 477][i % 4],
                        self.rng.random_range(0..1_000_000)
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn place_labs(&mut self) {
        const LAB_OFF_ROAD_M: f64 = 1500.0;
        for i in 0..self.cfg.labs {
            let city = self.weighted_city(false);
            let r = self.g.urban_radius_m(city);
            // In a neighbourhood, away from the highways: reaching it leaves the roads
            // through traffic drives.
            let mut pos = self.g.urban_point(city, 0.0, 0.5 * r);
            for _ in 0..40 {
                pos = self.g.urban_point(
                    city,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(0.2..0.9) * r,
                );
                // Streets into town run north-south through its centre (`roads::streets`):
                // the lab is off that arterial too.
                let off_arterial_m = (pos.lon - self.g.cities[city].pos.lon).abs()
                    * rastro_core::geo::M_PER_DEG
                    * pos.lat.to_radians().cos();
                // ...and away from the plants, where every carrier delivers.
                let near_site = self
                    .sites
                    .iter()
                    .any(|s| haversine_m(s.pos.lat, s.pos.lon, pos.lat, pos.lon) < LAB_OFF_ROAD_M);
                if off_arterial_m >= 1000.0
                    && !near_site
                    && self.roads.distance_to_road_m(pos) >= LAB_OFF_ROAD_M
                {
                    break;
                }
            }
            let from_ms =
                self.start_ms + (self.rng.random::<f64>() * 0.25 * self.period_ms() as f64) as i64;
            // Eight draws once made an inline profile; impurity profiles now come from their
            // own generator (`forensics`), and the draws stay so that the scenario's random
            // stream, and every figure measured on it, is unchanged.
            for _ in 0..8 {
                let _: f64 = self.rng.random_range(0.02..1.0);
            }
            self.labs.push(Lab {
                id: format!("LAB-{i:03}"),
                city,
                pos,
                from_ms,
                to_ms: self.start_ms + self.period_ms() + 30 * 86_400_000,
                fed_by: Vec::new(),
            });
        }
    }
}
