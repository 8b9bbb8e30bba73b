//! The link graph an investigator reads: entities (party records resolved into one), their
//! records, the phones and addresses they hold, the consignments they import or receive, the
//! places those go to and the vehicles that carry them, each edge with the records behind it. Built per read from what the
//! caller may see, so a link resting on a hidden record does not exist for them.

use crate::guard::Guard;
use crate::AppError;
use rastro_core::{Consignment, Custody, Kind, Party, Record, Tlp, Vehicle};
use rastro_pipeline::entities::{Edge, Entities};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use utoipa::ToSchema;

/// One edge of the link graph.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LinkV1 {
    /// Node ids: `ENT-…` (an entity), `party:…`, `consignment:…`, `place:…`, `vehicle:…`,
    /// `phone:…`, `address:…`.
    pub from: String,
    pub to: String,
    /// `record_of`, `same_entity`, `shares_phone`, `shares_rfc`, `shares_address`, `phone`,
    /// `address`, `importer`, `consignee`, `destination`, `carrier`, `carried_by`.
    pub kind: String,
    /// Why, in words (for `same_entity`, the match probability and each column's weight).
    pub why: String,
    /// The records behind the edge.
    pub records: Vec<String>,
}

/// An entity: its records and its direct links.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EntityV1 {
    pub id: String,
    /// Its party records (names as each source wrote them).
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<Party>,
    pub links: Vec<LinkV1>,
}

/// The most edges one read returns (a hub such as a busy port would otherwise return all).
pub const MAX_LINKS: usize = 5000;
/// The most hops `links` follows.
pub const MAX_HOPS: u32 = 6;

struct Graph {
    entities: Entities,
    parties: BTreeMap<String, Party>,
    adjacency: BTreeMap<String, Vec<LinkV1>>,
}

impl Graph {
    fn add(&mut self, l: LinkV1) {
        let back = LinkV1 {
            from: l.to.clone(),
            to: l.from.clone(),
            ..l.clone()
        };
        self.adjacency.entry(l.from.clone()).or_default().push(l);
        self.adjacency
            .entry(back.from.clone())
            .or_default()
            .push(back);
    }

    /// A node id from what a user types: an entity id, a party record id, or a prefixed id.
    fn node(&self, id: &str) -> Option<String> {
        if let Some(key) = id.strip_prefix("ENT-") {
            return self.entities.entity_of(key).filter(|e| e == id);
        }
        if let Some(p) = id.strip_prefix("party:") {
            return self.entities.entity_of(p);
        }
        if self.adjacency.contains_key(id) {
            return Some(id.to_string());
        }
        self.entities.entity_of(id)
    }
}

fn link(from: String, to: String, kind: &str, why: String, records: Vec<String>) -> LinkV1 {
    LinkV1 {
        from,
        to,
        kind: kind.into(),
        why,
        records,
    }
}

impl Guard<'_> {
    /// The records of one kind the caller may see, the first per id, as the type `pick` takes.
    fn visible_of<T>(
        &mut self,
        kind: Kind,
        pick: fn(Record) -> Option<T>,
    ) -> Result<Vec<T>, AppError> {
        Ok(self
            .visible_records(kind)?
            .into_iter()
            .filter_map(pick)
            .collect())
    }

    pub(crate) fn visible_records(&mut self, kind: Kind) -> Result<Vec<Record>, AppError> {
        let mut out = Vec::new();
        let mut ids: HashSet<String> = HashSet::new();
        let mut after = 0;
        loop {
            let page = self.store().records(kind, after, 2000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page {
                if self.sees_class(r.class) && ids.insert(r.record.id().to_string()) {
                    out.push(r.record);
                }
            }
        }
        Ok(out)
    }

    fn graph(&mut self) -> Result<Graph, AppError> {
        let parties: Vec<Party> = self.visible_of(Kind::Party, |r| match r {
            Record::Party(x) => Some(x),
            _ => None,
        })?;
        let consignments: Vec<Consignment> = self.visible_of(Kind::Consignment, |r| match r {
            Record::Consignment(x) => Some(x),
            _ => None,
        })?;
        let vehicles: Vec<Vehicle> = self.visible_of(Kind::Vehicle, |r| match r {
            Record::Vehicle(x) => Some(x),
            _ => None,
        })?;
        let custody: Vec<Custody> = self.visible_of(Kind::Custody, |r| match r {
            Record::Custody(x) => Some(x),
            _ => None,
        })?;
        let entities = Entities::new(parties.iter());
        let mut g = Graph {
            entities,
            parties: BTreeMap::new(),
            adjacency: BTreeMap::new(),
        };
        let ent = |g: &Graph, p: &str| {
            g.entities
                .entity_of(p)
                .unwrap_or_else(|| format!("party:{p}"))
        };
        for p in &parties {
            let e = ent(&g, &p.id);
            g.add(link(
                e.clone(),
                format!("party:{}", p.id),
                "record_of",
                format!("record {} ({})", p.name, p.originator),
                vec![p.id.clone()],
            ));
            if let Some(ph) = p
                .phone
                .as_deref()
                .and_then(rastro_resolve::normalise::phone)
            {
                g.add(link(
                    e.clone(),
                    format!("phone:{ph}"),
                    "phone",
                    format!("phone {ph} in record {}", p.id),
                    vec![p.id.clone()],
                ));
            }
            if let Some(a) = &p.address {
                let parts = rastro_resolve::normalise::address(a);
                if !parts.street.is_empty() && !parts.number.is_empty() {
                    g.add(link(
                        e.clone(),
                        format!("address:{}", parts.all),
                        "address",
                        format!("address {a} in record {}", p.id),
                        vec![p.id.clone()],
                    ));
                }
            }
            g.parties.insert(p.id.clone(), p.clone());
        }
        // Links between different entities by shared identifiers.
        let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
        for p in &parties {
            let edges: Vec<(String, Edge)> = g
                .entities
                .edges(&p.id)
                .into_iter()
                .map(|(o, e)| (o.to_string(), e.clone()))
                .collect();
            for (other, e) in edges {
                let (ea, eb) = (ent(&g, &p.id), ent(&g, &other));
                if let Edge::Shared { kind, value } = &e {
                    let k = (
                        ea.clone().min(eb.clone()),
                        ea.clone().max(eb.clone()),
                        value.clone(),
                    );
                    if ea != eb && seen.insert(k) {
                        let kind = format!("shares_{}", kind.to_lowercase());
                        g.add(link(
                            ea,
                            eb,
                            &kind,
                            e.describe(),
                            vec![p.id.clone(), other.clone()],
                        ));
                    }
                }
            }
        }
        for c in &consignments {
            let node = format!("consignment:{}", c.id);
            for (role, party) in [("importer", &c.importer), ("consignee", &c.consignee)] {
                // A party the caller may not see is not named, not even as an id.
                if g.parties.contains_key(party) {
                    let e = ent(&g, party);
                    g.add(link(
                        e,
                        node.clone(),
                        role,
                        format!(
                            "{role} of {} ({} {:.1} {})",
                            c.id,
                            c.cas,
                            c.quantity,
                            c.unit.as_str()
                        ),
                        vec![c.id.clone(), party.clone()],
                    ));
                }
            }
            g.add(link(
                node.clone(),
                format!("place:{}", c.destination),
                "destination",
                format!("declared destination of {}", c.id),
                vec![c.id.clone()],
            ));
        }
        // Vehicles: their carrier, and the consignments custody events load onto them.
        let visible_vehicles: BTreeSet<&str> = vehicles.iter().map(|v| v.id.as_str()).collect();
        for v in &vehicles {
            if let Some(c) = v.carrier.as_deref().filter(|c| g.parties.contains_key(*c)) {
                let e = ent(&g, c);
                g.add(link(
                    e,
                    format!("vehicle:{}", v.id),
                    "carrier",
                    format!("carrier of {} ({})", v.id, v.plate),
                    vec![v.id.clone(), c.to_string()],
                ));
            }
        }
        let mut carried: BTreeSet<(String, String)> = BTreeSet::new();
        for c in &custody {
            let Some(v) = c
                .vehicle
                .as_deref()
                .filter(|v| visible_vehicles.contains(v))
            else {
                continue;
            };
            if carried.insert((c.consignment.clone(), v.to_string())) {
                g.add(link(
                    format!("consignment:{}", c.consignment),
                    format!("vehicle:{v}"),
                    "carried_by",
                    format!("{} event {} names vehicle {v}", c.event.as_str(), c.id),
                    vec![c.id.clone(), v.to_string()],
                ));
            }
        }
        Ok(g)
    }

    fn log_links(&mut self, links: &[LinkV1]) -> Result<(), AppError> {
        let mut ids: Vec<String> = links
            .iter()
            .flat_map(|l| l.records.iter().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        self.log_read("links", ids)
    }

    /// An entity by its id (`ENT-…`) or any of its records' ids: its records and direct links.
    pub fn entity(&mut self, id: &str) -> Result<Option<EntityV1>, AppError> {
        let g = self.graph()?;
        let Some(node) = g.node(id) else {
            return Ok(None);
        };
        if !node.starts_with("ENT-") {
            return Ok(None);
        }
        let records: Vec<Party> = g
            .entities
            .members(&node)
            .iter()
            .filter_map(|m| g.parties.get(*m).cloned())
            .collect();
        let links = g.adjacency.get(&node).cloned().unwrap_or_default();
        let mut read: Vec<String> = records
            .iter()
            .filter(|p| p.marking.tlp != Tlp::Clear)
            .map(|p| p.id.clone())
            .collect();
        read.sort();
        self.log_read("entity", read)?;
        self.log_links(&links)?;
        Ok(Some(EntityV1 {
            id: node,
            records,
            links,
        }))
    }

    /// The links within `hops` of a node (breadth first, at most [`MAX_LINKS`]).
    pub fn links(&mut self, id: &str, hops: u32) -> Result<Option<Vec<LinkV1>>, AppError> {
        if hops == 0 || hops > MAX_HOPS {
            return Err(AppError::Invalid(format!(
                "hops {hops}: between 1 and {MAX_HOPS}"
            )));
        }
        let g = self.graph()?;
        let Some(start) = g.node(id) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        let mut depth: BTreeMap<String, u32> = BTreeMap::from([(start.clone(), 0)]);
        let mut q = VecDeque::from([start]);
        'bfs: while let Some(x) = q.pop_front() {
            let d = depth[&x];
            if d >= hops {
                continue;
            }
            for l in g.adjacency.get(&x).into_iter().flatten() {
                let new = !depth.contains_key(&l.to);
                // Each edge once: from the side reached first.
                if new || depth[&l.to] > d {
                    out.push(l.clone());
                    if out.len() >= MAX_LINKS {
                        break 'bfs;
                    }
                }
                if new {
                    depth.insert(l.to.clone(), d + 1);
                    q.push_back(l.to.clone());
                }
            }
        }
        self.log_links(&out)?;
        Ok(Some(out))
    }

    /// The shortest chain of links from `a` to `b`, each edge with the records behind it;
    /// `Ok(None)` when either is unknown to the caller, an empty chain when they are not linked.
    pub fn path(&mut self, a: &str, b: &str) -> Result<Option<Vec<LinkV1>>, AppError> {
        let g = self.graph()?;
        let (Some(s), Some(t)) = (g.node(a), g.node(b)) else {
            return Ok(None);
        };
        let mut prev: BTreeMap<String, LinkV1> = BTreeMap::new();
        let mut seen: HashSet<String> = HashSet::from([s.clone()]);
        let mut q = VecDeque::from([s.clone()]);
        while let Some(x) = q.pop_front() {
            if x == t {
                break;
            }
            for l in g.adjacency.get(&x).into_iter().flatten() {
                if seen.insert(l.to.clone()) {
                    prev.insert(l.to.clone(), l.clone());
                    q.push_back(l.to.clone());
                }
            }
        }
        let mut out = Vec::new();
        let mut cur = t.clone();
        while cur != s {
            let Some(l) = prev.get(&cur) else {
                return Ok(Some(Vec::new()));
            };
            out.push(l.clone());
            cur = l.from.clone();
        }
        out.reverse();
        self.log_links(&out)?;
        Ok(Some(out))
    }
}
