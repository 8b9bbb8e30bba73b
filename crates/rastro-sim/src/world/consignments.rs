//! Consignments: the scenario mix, structuring groups, one consignment's actors, and the
//! custody events and trucks every trip uses.

#![allow(clippy::too_many_arguments)]

use super::trip::TripSpec;
use super::*;
use crate::scenario::Scenario;

/// Carriers (the first registered) whose trucks drive the trips that go by a laboratory.
const COMPLICIT_CARRIERS: usize = 2;

impl World<'_> {
    pub(super) fn container(&mut self) -> Option<ContainerNumber> {
        for _ in 0..20 {
            let owner: String = (0..3)
                .map(|_| (b'A' + self.rng.random_range(0..26u8)) as char)
                .collect();
            let first10 = format!("{owner}U{:06}", self.rng.random_range(0..1_000_000));
            if let Some(c) = ContainerNumber::check_digit(&first10) {
                return ContainerNumber::parse(&format!("{first10}{c}")).ok();
            }
        }
        None
    }

    /// Whether the truck's carrier prefers another corridor to the shortest: a fixed trait
    /// of the carrier (a share `roads.alternative_share` of them), so its trucks all do.
    pub(super) fn prefers_alternative(&self, truck: usize) -> bool {
        let c = self.trucks[truck].carrier as u64;
        let h = c.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        (h % 1000) as f64 / 1000.0 < self.cfg.roads.alternative_share
    }

    /// A truck free at `depart_s`. A trip that goes by a laboratory (`complicit`) is driven by
    /// one of the few carriers that work for the network ([`COMPLICIT_CARRIERS`]): diversion
    /// is a business of a few firms, not of the whole fleet, so a laboratory is a place few
    /// carriers know, unlike a truck stop. Those carriers also do legitimate business.
    pub(super) fn truck_for(&mut self, depart_s: i64, complicit: bool) -> usize {
        let allowed = |c: usize| !complicit || c < COMPLICIT_CARRIERS;
        if let Some(i) = self
            .trucks
            .iter()
            .position(|t| t.free_at_s < depart_s && allowed(t.carrier))
        {
            // Reuse an idle truck, but not always the first, so plates spread over carriers.
            if self.rng.random_bool(0.7) {
                return i;
            }
        }
        let pick = if complicit {
            self.rng
                .random_range(0..COMPLICIT_CARRIERS.min(self.carriers.len()).max(1))
        } else {
            self.rng.random_range(0..self.carriers.len().max(1))
        };
        let carrier = self.carriers.get(pick).copied().unwrap_or(0);
        let plate = names::plate(&mut self.rng);
        let id = format!("SYN-V-{:05}", self.trucks.len() + 1);
        let interval_s = self.cfg.trucks.report_interval_s;
        let v = Vehicle {
            id: id.clone(),
            originator: "ANAM".into(),
            marking: m(Tlp::Amber, &[]),
            plate: plate.replace('-', ""),
            vehicle_kind: "truck".into(),
            carrier: self.entities[carrier].records.first().cloned(),
            report_interval_s: Some(interval_s),
            imo: None,
            mmsi: None,
        };
        let _ = self.out.record(&Record::Vehicle(v));
        self.trucks.push(Truck {
            id,
            carrier: pick,
            plate: plate.replace('-', ""),
            free_at_s: 0,
            interval_s,
        });
        self.trucks.len() - 1
    }

    pub(super) fn event(
        &mut self,
        consignment: &str,
        event: CustodyKind,
        t_s: i64,
        place: Option<String>,
        pos: Option<Position>,
        vehicle: Option<String>,
        party: Option<String>,
        qty: Option<(f64, Unit)>,
        cas_found: Option<Cas>,
    ) -> Result<(), SimError> {
        self.event_count += 1;
        let c = Custody {
            id: format!("SYN-E-{:07}", self.event_count),
            originator: "ANAM".into(),
            marking: m(Tlp::Amber, &[]),
            consignment: consignment.to_string(),
            event,
            time_ms: t_s * 1000,
            place,
            position: pos,
            vehicle,
            party,
            quantity: qty.map(|q| q.0),
            unit: qty.map(|q| q.1),
            cas_found,
            to_vehicle: None,
        };
        self.out.record(&Record::Custody(c))?;
        Ok(())
    }

    pub(super) fn active_labs(&self, t_ms: i64) -> Vec<usize> {
        (0..self.labs.len())
            .filter(|&l| self.labs[l].from_ms <= t_ms && t_ms <= self.labs[l].to_ms)
            .collect()
    }

    pub(super) fn consignments(&mut self) -> Result<(), SimError> {
        let d = self.cfg.diversion.clone();
        let nz = self.cfg.noise.clone();
        let n = self.cfg.consignments;
        let mut i = 0usize;
        let mut groups = 0usize;
        while i < n {
            let x: f64 = self.rng.random();
            let mut acc = 0.0;
            let mut scenario = Scenario::Legit;
            for s in Scenario::DIVERSIONS {
                acc += s.share(&d);
                if x < acc {
                    scenario = s;
                    break;
                }
            }
            // A group starts on about one draw in a hundred, so a small scenario can draw none
            // by chance: with a non-zero rate, one is staged half-way if none was drawn, so
            // every scale holds the typology it is configured to.
            if scenario == Scenario::Legit && groups == 0 && d.structuring > 0.0 && i >= n / 2 {
                scenario = Scenario::Structuring;
            }
            if scenario == Scenario::Structuring {
                let k = self.rng.random_range(3..=5).min(n - i);
                if k >= 3 {
                    groups += 1;
                    self.structuring_group(i, k)?;
                    i += k;
                    continue;
                }
                scenario = Scenario::Legit;
            }
            self.one(i, scenario, &nz)?;
            i += 1;
        }
        Ok(())
    }

    pub(super) fn structuring_group(&mut self, first: usize, k: usize) -> Result<(), SimError> {
        let arrival0 = self.start_ms
            + (self.rng.random::<f64>() * (self.period_ms() as f64 - 25.0 * 86_400_000.0).max(1.0)
                / 1000.0) as i64
                * 1000;
        let labs = self.active_labs(arrival0);
        let lab = labs.choose(&mut self.rng).copied();
        let city = lab
            .map(|l| self.labs[l].city)
            .unwrap_or_else(|| self.weighted_city(false));
        let chem = self.rng.random_range(0..self.chems.len());
        let area = *AREA_CODES.choose(&mut self.rng).unwrap_or(&55);
        let shared_phone = names::phone(&mut self.rng, area);
        let per = self.cfg.diversion.structuring_threshold_kg / k as f64;
        let mut ids = Vec::new();
        let mut plan = Vec::new();
        for j in 0..k {
            let reg = arrival0 - self.rng.random_range(200..2000) * 86_400_000;
            // Linked parties: distinct companies that share one phone number.
            let e = self.entity(
                PartyKind::Organisation,
                city,
                reg,
                false,
                false,
                Some(shared_phone),
            )?;
            let site = self.site_for(e, city, false)?;
            let arrival = arrival0
                + self.rng.random_range(0..20) * 86_400_000
                + self.rng.random_range(0..86_400) * 1000;
            let qty = (per * self.rng.random_range(1.05..1.6))
                .min(self.cfg.diversion.structuring_threshold_kg * 0.95);
            let id = format!("SYN-C-{:06}", first + j + 1);
            ids.push(id.clone());
            plan.push((id, e, site, arrival, qty));
        }
        for (id, e, site, arrival, qty) in plan {
            self.trip(TripSpec {
                id: id.clone(),
                importer: e,
                consignee: e,
                site,
                arrival_ms: arrival,
                chem: Some(chem),
                qty_kg: qty,
                scenario: Scenario::Structuring,
                lab: None,
                typologies: vec!["structuring"],
                linked: ids.clone(),
            })?;
            if let Some(l) = lab {
                self.labs[l].fed_by.push(id);
            }
        }
        Ok(())
    }

    pub(super) fn one(
        &mut self,
        i: usize,
        scenario: Scenario,
        nz: &crate::config::Noise,
    ) -> Result<(), SimError> {
        let id = format!("SYN-C-{:06}", i + 1);
        let arrival = self.start_ms
            + (self.rng.random::<f64>() * self.period_ms() as f64 / 1000.0) as i64 * 1000;
        let importer = *self.importers.choose(&mut self.rng).unwrap_or(&0);
        let mut consignee = if self.rng.random_bool(0.3) {
            importer
        } else {
            *self.consignees.choose(&mut self.rng).unwrap_or(&0)
        };
        let mut site = self.sites.iter().position(|s| s.entity == consignee);
        let qty = (self.rng.random_range(2..80) * 25) as f64;
        let mut scenario = scenario;
        let mut typologies: Vec<&'static str> = Vec::new();
        let mut lab = None;
        match scenario {
            Scenario::FrontConsignee => {
                let labs = self.active_labs(arrival);
                if let Some(&l) = labs.choose(&mut self.rng) {
                    let city = self.labs[l].city;
                    let reg = arrival - self.rng.random_range(10..90) * 86_400_000;
                    let e = self.entity(PartyKind::Organisation, city, reg, true, false, None)?;
                    // The front's address is a residence a short drive from the lab (the
                    // load goes on by van): in the same part of town, not next door.
                    let pos = destination(
                        self.labs[l].pos,
                        self.rng.random_range(0.0..360.0),
                        self.rng.random_range(600.0..1800.0),
                    );
                    let name = format!("Domicilio {}", self.entities[e].address);
                    let operator = self.entities[e].records.first().cloned();
                    let place = self.new_place(
                        PlaceKind::Residence,
                        name,
                        pos,
                        200.0,
                        None,
                        operator,
                        m(Tlp::Amber, &[]),
                    )?;
                    self.sites.push(Site {
                        place,
                        city,
                        pos,
                        entity: e,
                    });
                    site = Some(self.sites.len() - 1);
                    consignee = e;
                    lab = Some(l);
                    typologies.push("front_consignee");
                } else {
                    scenario = Scenario::Legit;
                }
            }
            Scenario::Legit if self.rng.random_bool(nz.new_legit_customer) => {
                let city = self.weighted_city(true);
                let reg = arrival - self.rng.random_range(30..120) * 86_400_000;
                let e = self.entity(PartyKind::Organisation, city, reg, false, false, None)?;
                site = Some(self.site_for(e, city, false)?);
                consignee = e;
                Out::truth(
                    &mut self.out.truth.noise,
                    &NoiseTruth {
                        truth_kind: "noise",
                        consignment: &id,
                        noise: "new_legit_customer",
                    },
                )?;
            }
            _ => {}
        }
        let site = match site {
            Some(s) => s,
            None => {
                let city = self.entities[consignee].city;
                self.site_for(consignee, city, false)?
            }
        };
        if scenario == Scenario::FrontConsignee {
            if let Some(l) = lab {
                self.labs[l].fed_by.push(id.clone());
            }
        }
        self.trip(TripSpec {
            id,
            importer,
            consignee,
            site,
            arrival_ms: arrival,
            chem: None,
            qty_kg: qty,
            scenario,
            lab,
            typologies,
            linked: Vec::new(),
        })
    }
}
