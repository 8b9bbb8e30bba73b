//! The records analysis reads, loaded once per run with their marking classes and markings
//! made explicit, and each view's window on them: only the records of classes the view may
//! see, indexed the way the detectors look them up.
//!
//! Ids are unique per originator, not globally: when a view sees two records of one kind with
//! the same id (two agencies declared "C-1"), the one of the first originator in code order
//! stands for the id in that view, and the others are counted as ambiguous, never silently
//! merged.

use crate::entities::Entities;
use crate::views::PlannedView;
use rastro_core::{
    Consignment, Custody, CustodyKind, Kind, Party, Place, PlaceKind, Record, Report, Vehicle,
};
use rastro_detect::links::PartyLinks;
use rastro_policy::Policy;
use rastro_store::{Store, StoreError};
use std::collections::{BTreeMap, HashMap};

/// Page size when streaming records out of the store.
const PAGE: u32 = 5000;

/// A record with its class and sequence number.
#[derive(Debug, Clone)]
pub struct Held<T> {
    pub class: i64,
    pub seq: i64,
    pub r: T,
}

/// Every non-observation record analysis uses.
#[derive(Debug, Default)]
pub struct Inputs {
    pub places: Vec<Held<Place>>,
    pub parties: Vec<Held<Party>>,
    pub vehicles: Vec<Held<Vehicle>>,
    pub consignments: Vec<Held<Consignment>>,
    pub custody: Vec<Held<Custody>>,
    pub reports: Vec<Held<Report>>,
    /// Custody events by the consignment id they name.
    pub custody_of: HashMap<String, Vec<usize>>,
    /// Vehicles by id (all originators).
    pub vehicles_with_id: HashMap<String, Vec<usize>>,
}

/// Makes a record's marking explicit, so that everything derived from it carries its audience
/// whoever originated it.
pub fn explicit(policy: &Policy, mut r: Record) -> Record {
    let nation = policy.nation_of(r.originator()).to_string();
    r.make_marking_explicit(&nation);
    r
}

fn load_kind(
    store: &Store,
    policy: &Policy,
    kind: Kind,
    mut f: impl FnMut(i64, i64, Record),
) -> Result<(), StoreError> {
    let mut after = 0;
    loop {
        let page = store.records(kind, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in page {
            f(r.class, r.seq, explicit(policy, r.record));
        }
    }
    Ok(())
}

impl Inputs {
    pub fn load(store: &Store, policy: &Policy) -> Result<Inputs, StoreError> {
        let mut x = Inputs::default();
        load_kind(store, policy, Kind::Place, |class, seq, r| {
            if let Record::Place(p) = r {
                x.places.push(Held { class, seq, r: p });
            }
        })?;
        load_kind(store, policy, Kind::Party, |class, seq, r| {
            if let Record::Party(p) = r {
                x.parties.push(Held { class, seq, r: p });
            }
        })?;
        load_kind(store, policy, Kind::Vehicle, |class, seq, r| {
            if let Record::Vehicle(p) = r {
                x.vehicles.push(Held { class, seq, r: p });
            }
        })?;
        load_kind(store, policy, Kind::Consignment, |class, seq, r| {
            if let Record::Consignment(p) = r {
                x.consignments.push(Held { class, seq, r: p });
            }
        })?;
        load_kind(store, policy, Kind::Custody, |class, seq, r| {
            if let Record::Custody(p) = r {
                x.custody.push(Held { class, seq, r: p });
            }
        })?;
        load_kind(store, policy, Kind::Report, |class, seq, r| {
            if let Record::Report(p) = r {
                x.reports.push(Held { class, seq, r: p });
            }
        })?;
        for (i, c) in x.custody.iter().enumerate() {
            x.custody_of
                .entry(c.r.consignment.clone())
                .or_default()
                .push(i);
        }
        for (i, v) in x.vehicles.iter().enumerate() {
            x.vehicles_with_id
                .entry(v.r.id.clone())
                .or_default()
                .push(i);
        }
        // Within one id, the first originator in code order comes first.
        for list in x.custody_of.values_mut() {
            list.sort_by(|&a, &b| {
                let (a, b) = (&x.custody[a], &x.custody[b]);
                (a.r.time_ms, &a.r.originator, &a.r.id).cmp(&(
                    b.r.time_ms,
                    &b.r.originator,
                    &b.r.id,
                ))
            });
        }
        Ok(x)
    }

    /// Classes of the records the per-consignment detectors read as context (places, parties,
    /// vehicles, consignments, custody), sorted.
    pub fn case_context_classes(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .places
            .iter()
            .map(|h| h.class)
            .chain(self.parties.iter().map(|h| h.class))
            .chain(self.vehicles.iter().map(|h| h.class))
            .chain(self.consignments.iter().map(|h| h.class))
            .chain(self.custody.iter().map(|h| h.class))
            // Reports name parties, which front-consignee detection reads.
            .chain(self.reports.iter().map(|h| h.class))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Plates as checkpoint cameras read them: letters and digits, upper case.
pub fn normalise_plate(p: &str) -> String {
    p.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// One view's window on the inputs.
pub struct ViewData<'a> {
    pub places: Vec<&'a Place>,
    pub place_by_id: BTreeMap<&'a str, &'a Place>,
    pub parties: Vec<&'a Party>,
    pub party_by_id: BTreeMap<&'a str, &'a Party>,
    pub vehicle_by_id: BTreeMap<&'a str, &'a Vehicle>,
    pub vehicle_by_plate: BTreeMap<String, &'a str>,
    /// The consignment standing for each id, in id order.
    pub consignments: BTreeMap<&'a str, &'a Consignment>,
    pub reports: Vec<&'a Report>,
    /// Custody events this view may see, by the consignment id they name, in time order.
    pub custody: HashMap<&'a str, Vec<&'a Held<Custody>>>,
    /// Loading events this view may see, by the vehicle they name: (time, consignment id), in
    /// time order. A vehicle's other loads on one trip are its other drops.
    pub loads: HashMap<&'a str, Vec<(i64, &'a str)>>,
    /// Places where a stop is normal for any consignment (registered rest places, ports,
    /// depots, warehouses, checkpoints, toll plazas).
    pub known: Vec<Place>,
    /// Party records resolved into entities and linked by shared identifiers.
    pub links: Entities,
    /// Party records a report names or a watch list holds, by the cluster of linked party
    /// records they belong to (with the report, for a report).
    pub named: HashMap<String, Vec<(&'a Party, Option<&'a Report>)>>,
    /// Arrival times per consignee cluster, sorted: earlier imports of linked parties.
    pub arrivals: BTreeMap<String, Vec<i64>>,
    /// Records of one kind sharing an id within this view (all but the one kept).
    pub ambiguous: usize,
}

/// Keeps the first record per id (inputs come in storage order; originator order decides).
fn by_id<'a, T>(
    items: impl Iterator<Item = &'a T>,
    id: impl Fn(&T) -> &str,
    originator: impl Fn(&T) -> &str,
    ambiguous: &mut usize,
) -> BTreeMap<&'a str, &'a T>
where
    T: 'a,
{
    let mut out: BTreeMap<&'a str, &'a T> = BTreeMap::new();
    for x in items {
        let k: &'a str = id(x);
        match out.get(k) {
            Some(prev) => {
                *ambiguous += 1;
                if originator(x) < originator(prev) {
                    out.insert(k, x);
                }
            }
            None => {
                out.insert(k, x);
            }
        }
    }
    out
}

impl<'a> ViewData<'a> {
    pub fn new(x: &'a Inputs, v: &PlannedView) -> ViewData<'a> {
        let mut ambiguous = 0;
        let places: Vec<&Place> = x
            .places
            .iter()
            .filter(|h| v.sees(h.class))
            .map(|h| &h.r)
            .collect();
        let parties: Vec<&Party> = x
            .parties
            .iter()
            .filter(|h| v.sees(h.class))
            .map(|h| &h.r)
            .collect();
        let place_by_id = by_id(
            places.iter().copied(),
            |p| p.id.as_str(),
            |p| p.originator.as_str(),
            &mut ambiguous,
        );
        let party_by_id = by_id(
            parties.iter().copied(),
            |p| p.id.as_str(),
            |p| p.originator.as_str(),
            &mut ambiguous,
        );
        let vehicle_by_id = by_id(
            x.vehicles.iter().filter(|h| v.sees(h.class)).map(|h| &h.r),
            |p| p.id.as_str(),
            |p| p.originator.as_str(),
            &mut ambiguous,
        );
        let consignments = by_id(
            x.consignments
                .iter()
                .filter(|h| v.sees(h.class))
                .map(|h| &h.r),
            |p| p.id.as_str(),
            |p| p.originator.as_str(),
            &mut ambiguous,
        );
        let vehicle_by_plate: BTreeMap<String, &str> = vehicle_by_id
            .values()
            .map(|veh| (normalise_plate(&veh.plate), veh.id.as_str()))
            .collect();
        let known: Vec<Place> = places
            .iter()
            .filter(|p| {
                matches!(
                    p.place_kind,
                    PlaceKind::Port
                        | PlaceKind::Depot
                        | PlaceKind::Warehouse
                        | PlaceKind::RestStop
                        | PlaceKind::FuelStation
                        | PlaceKind::Checkpoint
                        | PlaceKind::TollPlaza
                )
            })
            .map(|p| (*p).clone())
            .collect();
        let links = Entities::new(party_by_id.values().copied());
        let reports: Vec<&Report> = x
            .reports
            .iter()
            .filter(|h| v.sees(h.class))
            .map(|h| &h.r)
            .collect();
        let mut named: HashMap<String, Vec<(&Party, Option<&Report>)>> = HashMap::new();
        for p in parties.iter().filter(|p| p.watch_list.is_some()) {
            named
                .entry(links.cluster(&p.id))
                .or_default()
                .push((p, None));
        }
        // A purchase of equipment is what legitimate plants do too: not a report against a
        // party. Tips, seizures, laboratories found and other (prosecutors') reports are.
        for r in reports
            .iter()
            .filter(|r| r.report_kind != rastro_core::ReportKind::EquipmentPurchase)
        {
            for s in &r.subjects {
                if let Some(p) = party_by_id.get(s.as_str()) {
                    named
                        .entry(links.cluster(&p.id))
                        .or_default()
                        .push((p, Some(*r)));
                }
            }
        }
        let mut arrivals: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for c in consignments.values() {
            arrivals
                .entry(links.cluster(&c.consignee))
                .or_default()
                .push(c.arrival_ms);
        }
        for a in arrivals.values_mut() {
            a.sort_unstable();
        }
        let mut custody: HashMap<&str, Vec<&Held<Custody>>> = HashMap::new();
        for (id, list) in &x.custody_of {
            let seen: Vec<&Held<Custody>> = list
                .iter()
                .map(|&i| &x.custody[i])
                .filter(|h| v.sees(h.class))
                .collect();
            if !seen.is_empty() {
                custody.insert(id.as_str(), seen);
            }
        }
        let mut loads: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
        for list in custody.values() {
            for h in list {
                if let (CustodyKind::Loaded, Some(veh)) = (h.r.event, h.r.vehicle.as_deref()) {
                    loads
                        .entry(veh)
                        .or_default()
                        .push((h.r.time_ms, h.r.consignment.as_str()));
                }
            }
        }
        for l in loads.values_mut() {
            l.sort_unstable();
        }
        ViewData {
            custody,
            loads,
            places,
            place_by_id,
            parties,
            party_by_id,
            vehicle_by_id,
            vehicle_by_plate,
            consignments,
            reports,
            known,
            links,
            named,
            arrivals,
            ambiguous,
        }
    }

    /// Custody events of a consignment this view may see, in time order.
    pub fn custody_of(&self, id: &str) -> Vec<&'a Held<Custody>> {
        self.custody.get(id).cloned().unwrap_or_default()
    }

    /// As [`ViewData::custody_of`], the events only.
    pub fn custody_of_id(&self, id: &str) -> Vec<&'a Custody> {
        self.custody
            .get(id)
            .map(|l| l.iter().map(|h| &h.r).collect())
            .unwrap_or_default()
    }

    /// Where a vehicle drops other goods on the trip that carries `c` (loaded on `vehicle` from
    /// a day before `from_ms` to `to_ms`, and not delivered before `from_ms`): each other
    /// consignment's declared destination and the positions its delivery events give. A stop
    /// there is a delivery, not a detour.
    pub fn other_drops(
        &self,
        c: &Consignment,
        vehicle: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Vec<rastro_core::Position> {
        let mut out = Vec::new();
        let Some(l) = self.loads.get(vehicle) else {
            return out;
        };
        let lo = l.partition_point(|(t, _)| *t < from_ms.saturating_sub(86_400_000));
        for (t, other) in &l[lo..] {
            if *t > to_ms {
                break;
            }
            if *other == c.id {
                continue;
            }
            // On board during this trip: not delivered before this loading.
            let delivered: Vec<&Custody> = self
                .custody
                .get(other)
                .into_iter()
                .flatten()
                .map(|h| &h.r)
                .filter(|e| matches!(e.event, CustodyKind::Delivered | CustodyKind::Received))
                .collect();
            if delivered.iter().any(|e| e.time_ms < from_ms) {
                continue;
            }
            if let Some(p) = self
                .consignments
                .get(other)
                .and_then(|o| self.place_by_id.get(o.destination.as_str()))
            {
                out.push(p.position);
            }
            out.extend(delivered.iter().filter_map(|e| e.position));
        }
        out
    }

    /// Parties linked to `consignee` (its own record, or records sharing identifiers with it)
    /// that a report names or a watch list holds, with how they link.
    pub fn named_for(&self, consignee: &str) -> Vec<rastro_detect::consignment::Named<'a>> {
        self.named
            .get(&self.links.cluster(consignee))
            .into_iter()
            .flatten()
            .map(|(p, r)| rastro_detect::consignment::Named {
                party: p,
                report: *r,
                // Records of one cluster are always connected by links; the fallback names both
                // records, with the named party's marking, should that ever not hold.
                via: (p.id != consignee).then(|| {
                    self.links.explain(consignee, &p.id).unwrap_or_else(|| {
                        rastro_detect::LinkPath {
                            text: "linked records".into(),
                            records: vec![consignee.to_string(), p.id.clone()],
                            marking: p.marking.clone(),
                        }
                    })
                }),
            })
            .collect()
    }

    /// Earlier consignments of the consignee or of parties linked to it.
    pub fn prior_consignments(&self, c: &Consignment) -> usize {
        self.arrivals
            .get(&self.links.cluster(&c.consignee))
            .map(|v| v.partition_point(|&t| t < c.arrival_ms))
            .unwrap_or(0)
    }
}
