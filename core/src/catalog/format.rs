//! The pack's wire format: one version, named sections.
//!
//! `MZPK` ‖ format version u16 LE ‖ payload length u32 LE ‖ payload ‖ Ed25519
//! signature (64 bytes) of the header followed by the payload's SHA-256. Signing
//! the digest rather than the payload itself lets a phone check a large pack
//! at the speed of its SHA-256 instructions (Ed25519 alone hashes its whole
//! message with SHA-512, which phones compute in software).
//!
//! The payload is a table of sections: their count (u16 LE), then per section
//! its name (u8 length, ASCII) and body length (u32 LE); the bodies follow in
//! the same order, each encoded with bincode's standard configuration. An engine
//! reads the sections it knows and skips the others, so a pack gains a part (a
//! new model, a new index) without a new format version; a pack without one of
//! the required sections is refused. Ranker weights travel by name for the same
//! reason: a weight an engine does not know is ignored, and a weight a pack does
//! not carry is 0 (the pack has no such part).

use ring::digest::{digest, SHA256};
use ring::signature::{Ed25519KeyPair, UnparsedPublicKey, ED25519};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::links::Links;
use super::tables::ItemTable;
use super::vectors;
use super::{CatalogPack, Category, Embeddings, NeighbourList, PackMeta, RankerWeights};
use crate::error::PackError;
use crate::network::SequenceNetwork;

const PACK_MAGIC: &[u8; 4] = b"MZPK";
/// The one pack format version this engine reads and writes.
pub const PACK_FORMAT_VERSION: u16 = 7;
const PACK_HEADER_LEN: usize = 10;
const SIGNATURE_LEN: usize = 64;
/// A bincode section of up to [`SMALL_SECTION`] bytes decodes under
/// [`SMALL_LIMIT`], more than any real one needs (a category, 32 bytes in
/// memory, takes at least 2 in a pack), so that a length prefix claiming more
/// is refused before anything is allocated for it; larger sections (the
/// popularity of a catalogue past about 350k items) under [`LARGE_LIMIT`].
/// Two limits, not one per size: each is a type parameter in bincode, and each
/// costs the mobile library a copy of every section decoder; sections small by
/// nature (meta, weights, coverage) get only the small one.
const SMALL_SECTION: usize = 1 << 20;
const SMALL_LIMIT: usize = 16 << 20;
const LARGE_LIMIT: usize = 1 << 30;

/// Section names.
mod name {
    pub const META: &str = "meta";
    pub const CATEGORIES: &str = "categories";
    pub const ITEMS: &str = "items";
    pub const POPULARITY: &str = "popularity";
    pub const WEIGHTS: &str = "weights";
    pub const NEIGHBOURS: &str = "neighbours";
    pub const TRANSITIONS: &str = "transitions";
    pub const TREND: &str = "trend";
    pub const EMBEDDINGS: &str = "embeddings";
    pub const NETWORK: &str = "network";
    pub const COVERAGE: &str = "coverage";
    pub const REPURCHASE: &str = "repurchase";
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).expect("in-memory values encode")
}

/// Decodes a whole section body as `T`; trailing bytes refuse it, and so does
/// a length prefix claiming more memory than the section's limit.
fn decode<T: DeserializeOwned>(body: &[u8], section: &'static str) -> Result<T, PackError> {
    let decoded = if body.len() <= SMALL_SECTION { with_limit::<T, SMALL_LIMIT>(body) } else { with_limit::<T, LARGE_LIMIT>(body) };
    decoded.ok_or(PackError::Malformed(section))
}

/// [`decode`] for a section small by nature: past [`SMALL_SECTION`] it is refused.
fn decode_small<T: DeserializeOwned>(body: &[u8], section: &'static str) -> Result<T, PackError> {
    Some(body).filter(|b| b.len() <= SMALL_SECTION).and_then(with_limit::<T, SMALL_LIMIT>).ok_or(PackError::Malformed(section))
}

fn with_limit<T: DeserializeOwned, const LIMIT: usize>(body: &[u8]) -> Option<T> {
    let config = bincode::config::standard().with_limit::<LIMIT>();
    match bincode::serde::decode_from_slice(body, config) {
        Ok((value, used)) if used == body.len() => Some(value),
        _ => None,
    }
}

/// The trend section: the moment it describes, and what was popular then per item.
type TrendSection = (i64, Vec<u16>);

/// Serialises `pack` into the sectioned payload.
pub(super) fn encode_payload(pack: &CatalogPack) -> Vec<u8> {
    let weights: Vec<(&str, f32)> = pack.default_weights.named().to_vec();
    let mut sections: Vec<(&str, Vec<u8>)> = vec![
        (name::META, encode(&pack.meta)),
        (name::CATEGORIES, encode(&pack.categories)),
        (name::ITEMS, ItemTable::new(&pack.items).expect("a catalogue under 4 GB lays out").to_wire()),
        (name::POPULARITY, encode(&pack.popularity)),
        (name::WEIGHTS, encode(&weights)),
        (name::NEIGHBOURS, links_section(&pack.neighbours)),
        (name::TRANSITIONS, links_section(&pack.transitions)),
        (name::TREND, encode(&(pack.trend_as_of_ms, &pack.trend))),
    ];
    if let Some(embeddings) = &pack.embeddings {
        sections.push((name::EMBEDDINGS, vectors::embeddings_to_wire(embeddings)));
    }
    if let Some(network) = &pack.network {
        sections.push((name::NETWORK, vectors::network_to_wire(network)));
    }
    if !pack.repurchase_hours.is_empty() {
        sections.push((name::REPURCHASE, encode(&pack.repurchase_hours)));
    }
    if let Some(coverage) = &pack.meta.coverage {
        sections.push((name::COVERAGE, encode(coverage)));
    }
    payload_from_sections(&sections)
}

/// A payload of `(name, body)` sections, in their order: the section table
/// (count, then each name and body length), then the bodies. Public for tests,
/// fuzzing and tools that build a payload by hand (sign it with [`sign_payload`]).
pub fn payload_from_sections<B: AsRef<[u8]>>(sections: &[(&str, B)]) -> Vec<u8> {
    let mut payload = (sections.len() as u16).to_le_bytes().to_vec();
    for (name, body) in sections {
        payload.push(name.len() as u8);
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(&(body.as_ref().len() as u32).to_le_bytes());
    }
    sections.iter().for_each(|(_, body)| payload.extend_from_slice(body.as_ref()));
    payload
}

/// A links section ([`Links::to_wire`]): lists in item order, Rice-coded.
fn links_section(lists: &[NeighbourList]) -> Vec<u8> {
    let ordered: Vec<NeighbourList> = lists.iter().map(|l| l.clone().into_item_order()).collect();
    Links::new(&ordered).expect("ordered lists of a catalogue under 4 GB pack").to_wire()
}

/// What the signature covers: the header, then the payload's SHA-256.
fn signed_message(header: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut message = header.to_vec();
    message.extend_from_slice(digest(&SHA256, payload).as_ref());
    message
}

/// `MZPK` ‖ version ‖ payload length ‖ payload ‖ Ed25519 signature of the header and the payload's SHA-256.
/// Public for tests, fuzzing and tools that build a payload by hand; packs are
/// built with [`CatalogPack::sign`].
pub fn sign_payload(payload: &[u8], signer: &Ed25519KeyPair) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(PACK_HEADER_LEN + payload.len() + SIGNATURE_LEN);
    bytes.extend_from_slice(PACK_MAGIC);
    bytes.extend_from_slice(&PACK_FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let signature = signer.sign(&signed_message(&bytes, payload));
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(signature.as_ref());
    bytes
}

/// Checks the header and the signature against `trusted_keys`; returns the
/// signed payload.
pub(super) fn verified_payload<'a>(bytes: &'a [u8], trusted_keys: &[Vec<u8>]) -> Result<&'a [u8], PackError> {
    if trusted_keys.is_empty() {
        return Err(PackError::NoTrustedKey);
    }
    if bytes.len() < 4 || &bytes[..4] != PACK_MAGIC {
        return Err(PackError::NotAPack);
    }
    let header = bytes.get(..PACK_HEADER_LEN).ok_or(PackError::Truncated)?;
    let version = u16::from_le_bytes([header[4], header[5]]);
    if version != PACK_FORMAT_VERSION {
        return Err(PackError::UnsupportedVersion(version));
    }
    let payload_len = u32::from_le_bytes([header[6], header[7], header[8], header[9]]) as usize;
    if bytes.len() != PACK_HEADER_LEN + payload_len + SIGNATURE_LEN {
        return Err(PackError::Truncated);
    }
    let (signed, signature) = bytes.split_at(PACK_HEADER_LEN + payload_len);
    let payload = &signed[PACK_HEADER_LEN..];
    let message = signed_message(header, payload);
    if !trusted_keys.iter().any(|k| UnparsedPublicKey::new(&ED25519, k).verify(&message, signature).is_ok()) {
        return Err(PackError::BadSignature);
    }
    Ok(payload)
}

/// Reads one section body as `T`.
type Decoder<T> = fn(&[u8], &'static str) -> Result<T, PackError>;

/// The sections of a payload by name, in their order.
struct Sections<'a>(Vec<(&'a str, &'a [u8])>);

impl<'a> Sections<'a> {
    fn parse(payload: &'a [u8]) -> Result<Self, PackError> {
        let bad = || PackError::Malformed("section table");
        let mut at = 0usize;
        let mut take = |len: usize| -> Result<&'a [u8], PackError> {
            let slice = payload.get(at..at.checked_add(len).ok_or_else(bad)?).ok_or_else(bad)?;
            at += len;
            Ok(slice)
        };
        let count = u16::from_le_bytes(take(2)?.try_into().expect("2 bytes"));
        let mut table = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let name_len = usize::from(take(1)?[0]);
            let name = std::str::from_utf8(take(name_len)?).map_err(|_| bad())?;
            let body_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
            if table.iter().any(|&(seen, _)| seen == name) {
                return Err(PackError::Malformed("a section appears twice"));
            }
            table.push((name, body_len));
        }
        let mut sections = Vec::with_capacity(table.len());
        for (name, body_len) in table {
            sections.push((name, take(body_len)?));
        }
        if at != payload.len() {
            return Err(PackError::Malformed("trailing bytes in payload"));
        }
        Ok(Sections(sections))
    }

    fn body(&self, name: &str) -> Option<&'a [u8]> {
        self.0.iter().find(|(n, _)| *n == name).map(|&(_, body)| body)
    }

    /// Section `name` read by `decode` ([`decode`], or [`decode_small`] for the
    /// sections small by nature), if present.
    fn optional<T>(&self, name: &'static str, decode: Decoder<T>) -> Result<Option<T>, PackError> {
        self.body(name).map(|body| decode(body, name)).transpose()
    }

    fn required<T>(&self, name: &'static str, decode: Decoder<T>) -> Result<T, PackError> {
        self.optional(name, decode)?.ok_or(PackError::Malformed(name))
    }
}

/// The name and body size of each section of a verified payload, in order.
pub(super) fn section_sizes(payload: &[u8]) -> Result<Vec<(String, usize)>, PackError> {
    Ok(Sections::parse(payload)?.0.into_iter().map(|(name, body)| (name.to_string(), body.len())).collect())
}

/// A decoded payload, items and links laid out as the engine holds them.
pub(super) struct Decoded {
    pub(super) meta: PackMeta,
    pub(super) categories: Vec<Category>,
    pub(super) items: ItemTable,
    pub(super) popularity: Vec<u16>,
    pub(super) weights: RankerWeights,
    pub(super) neighbours: Links,
    pub(super) transitions: Links,
    pub(super) trend: Vec<u16>,
    pub(super) trend_as_of_ms: i64,
    pub(super) embeddings: Option<Embeddings>,
    pub(super) network: Option<SequenceNetwork>,
    pub(super) repurchase_hours: Vec<u16>,
}

impl Decoded {
    /// The whole pack as the builder holds it.
    pub(super) fn into_pack(self) -> CatalogPack {
        CatalogPack {
            meta: self.meta,
            categories: self.categories,
            items: self.items.items(),
            neighbours: self.neighbours.lists(),
            transitions: self.transitions.lists(),
            popularity: self.popularity,
            trend: self.trend,
            trend_as_of_ms: self.trend_as_of_ms,
            embeddings: self.embeddings,
            network: self.network,
            repurchase_hours: self.repurchase_hours,
            default_weights: self.weights,
        }
    }
}

/// Decodes a verified payload; unknown sections are skipped.
pub(super) fn decode_payload(payload: &[u8]) -> Result<Decoded, PackError> {
    let sections = Sections::parse(payload)?;
    let categories: Vec<Category> = sections.required(name::CATEGORIES, decode)?;
    let items = ItemTable::from_wire(sections.body(name::ITEMS).ok_or(PackError::Malformed(name::ITEMS))?, categories.len())?;
    let n = items.len();
    let weights: Vec<(String, f32)> = sections.required(name::WEIGHTS, decode_small)?;
    let links = |name: &'static str| -> Result<Links, PackError> {
        sections.body(name).map_or_else(|| Ok(Links::empty(n)), |body| Links::from_wire(body, n, name))
    };
    let (trend_as_of_ms, trend) = sections.optional::<TrendSection>(name::TREND, decode)?.unwrap_or_else(|| (0, vec![0; n]));
    let meta = PackMeta { coverage: sections.optional(name::COVERAGE, decode_small)?, ..sections.required::<PackMeta>(name::META, decode_small)? };
    Ok(Decoded {
        meta,
        categories,
        popularity: sections.required(name::POPULARITY, decode)?,
        weights: RankerWeights::from_named(weights.iter().map(|(name, value)| (name.as_str(), *value))),
        neighbours: links(name::NEIGHBOURS)?,
        transitions: links(name::TRANSITIONS)?,
        trend,
        trend_as_of_ms,
        embeddings: sections.body(name::EMBEDDINGS).map(vectors::embeddings_from_wire).transpose()?,
        network: sections.body(name::NETWORK).map(vectors::network_from_wire).transpose()?,
        repurchase_hours: sections.optional(name::REPURCHASE, decode)?.unwrap_or_default(),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::public_key;
    use crate::catalog::tests::{signer, tiny_pack};

    fn read(payload: &[u8]) -> Result<CatalogPack, PackError> {
        CatalogPack::verify(&sign_payload(payload, &signer(1)), &[public_key(&signer(1))])
    }

    fn sections_of(pack: &CatalogPack) -> Vec<(String, Vec<u8>)> {
        let payload = encode_payload(pack);
        Sections::parse(&payload).unwrap().0.into_iter().map(|(n, b)| (n.to_string(), b.to_vec())).collect()
    }

    fn borrowed(sections: &[(String, Vec<u8>)]) -> Vec<(&str, Vec<u8>)> {
        sections.iter().map(|(n, b)| (n.as_str(), b.clone())).collect()
    }

    #[test]
    fn unknown_sections_are_skipped_and_missing_optional_ones_are_empty() {
        let pack = tiny_pack();
        let mut sections = sections_of(&pack);
        sections.insert(2, ("a future part".to_string(), vec![1, 2, 3]));
        assert_eq!(read(&payload_from_sections(&borrowed(&sections))).unwrap(), pack, "an unknown section changes nothing");
        let without: Vec<_> = sections.into_iter().filter(|(n, _)| n != name::TRANSITIONS && n != name::EMBEDDINGS).collect();
        let read_back = read(&payload_from_sections(&borrowed(&without))).unwrap();
        assert_eq!(read_back.transitions, vec![NeighbourList::default(); 3]);
        assert_eq!(read_back.embeddings, None);
    }

    #[test]
    fn required_sections_duplicates_and_bad_tables_are_refused() {
        let sections = sections_of(&tiny_pack());
        for required in [name::META, name::CATEGORIES, name::ITEMS, name::POPULARITY, name::WEIGHTS] {
            let without: Vec<_> = sections.iter().filter(|(n, _)| n != required).cloned().collect();
            assert_eq!(read(&payload_from_sections(&borrowed(&without))), Err(PackError::Malformed(required)), "{required}");
        }
        let mut twice = sections.clone();
        twice.push(sections[0].clone());
        assert_eq!(read(&payload_from_sections(&borrowed(&twice))), Err(PackError::Malformed("a section appears twice")));
        let mut trailing = payload_from_sections(&borrowed(&sections));
        trailing.push(0);
        assert_eq!(read(&trailing), Err(PackError::Malformed("trailing bytes in payload")));
        let mut overlong = payload_from_sections(&borrowed(&sections));
        overlong.truncate(overlong.len() - 1);
        assert_eq!(read(&overlong), Err(PackError::Malformed("section table")));
    }

    #[test]
    fn what_a_partial_pack_covers_travels_in_its_own_section() {
        let coverage = crate::catalog::Coverage { subset: "categories: tea".into(), source_items: 40 };
        let mut pack = tiny_pack();
        pack.meta.coverage = Some(coverage.clone());
        let sections = sections_of(&pack);
        assert!(sections.iter().any(|(n, _)| n == name::COVERAGE));
        assert_eq!(read(&payload_from_sections(&borrowed(&sections))).unwrap().meta.coverage, Some(coverage));
        assert!(sections_of(&tiny_pack()).iter().all(|(n, _)| n != name::COVERAGE), "a whole catalogue has none");
    }

    #[test]
    fn weights_travel_by_name() {
        let mut sections = sections_of(&tiny_pack());
        let weights: Vec<(&str, f32)> = vec![("popularity", 2.0), ("a future weight", 9.0)];
        sections.iter_mut().find(|(n, _)| n == name::WEIGHTS).unwrap().1 = encode(&weights);
        let read_back = read(&payload_from_sections(&borrowed(&sections))).unwrap().default_weights;
        assert_eq!(read_back, RankerWeights { popularity: 2.0, ..RankerWeights::zero() }, "unknown names ignored, missing ones 0");
    }

    #[test]
    fn a_hostile_length_prefix_is_refused_without_allocating_it() {
        let mut sections = sections_of(&tiny_pack());
        // A meta whose source string claims 2^40 bytes.
        let mut meta = encode(&(1u64, 0i64));
        meta.push(253);
        meta.extend_from_slice(&(1u64 << 40).to_le_bytes());
        sections[0].1 = meta;
        assert_eq!(read(&payload_from_sections(&borrowed(&sections))), Err(PackError::Malformed(name::META)));
    }

    #[test]
    fn other_format_versions_are_refused() {
        let mut bytes = tiny_pack().sign(&signer(1));
        for version in [1u16, 4, 6, PACK_FORMAT_VERSION + 1] {
            bytes[4..6].copy_from_slice(&version.to_le_bytes());
            assert_eq!(CatalogPack::verify(&bytes, &[public_key(&signer(1))]), Err(PackError::UnsupportedVersion(version)));
        }
    }
}
