//! The compact in-memory form of a verified pack's per-item data, so that a
//! catalogue of 100k items stays within a phone's memory budget: item ids and
//! titles in one string, categories in flat arrays, and an id index of 64-bit hashes
//! instead of a copy of every id.

use std::collections::HashMap;
use std::hash::Hasher;

use super::{Item, SensitiveCategory};
use crate::error::PackError;

/// Per item its id and title, categories, tags, sensitivity and availability,
/// in flat arrays: what a pack's items section carries, laid out so that a
/// phone reads it without an allocation per item.
#[derive(Debug, Clone, Default)]
pub(super) struct ItemTable {
    /// Every id and title, one after the other.
    text: String,
    /// `2n + 1` offsets into `text`: item `i`'s id is `[2i, 2i+1)`, its title `[2i+1, 2i+2)`.
    bounds: Vec<u32>,
    /// `n + 1` offsets into `category_list`.
    category_bounds: Vec<u32>,
    category_list: Vec<u32>,
    /// Per item, 0 or its own sensitive category (1-based, [`SENSITIVE`] order).
    sensitive: Vec<u8>,
    /// Distinct tags, `n + 1` offsets into `tag_list`, and the tags by index.
    tag_names: Vec<String>,
    tag_bounds: Vec<u32>,
    tag_list: Vec<u32>,
    /// Items tagged [`crate::rank::REPEATABLE_TAG`].
    repeatable: Vec<bool>,
    /// Availability windows of the items that have one.
    windows: HashMap<u32, (Option<i64>, Option<i64>)>,
}

/// Sensitive categories by their 1-based code in a pack.
const SENSITIVE: [SensitiveCategory; 6] = [
    SensitiveCategory::Health,
    SensitiveCategory::Religion,
    SensitiveCategory::Politics,
    SensitiveCategory::Sexuality,
    SensitiveCategory::Finances,
    SensitiveCategory::Children,
];

fn offset(len: usize) -> Result<u32, PackError> {
    u32::try_from(len).map_err(|_| PackError::Malformed("catalogue too large"))
}

/// Checked little-endian reads over an untrusted section body.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The section read, named in errors.
    section: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8], section: &'static str) -> Self {
        Reader { bytes, at: 0, section }
    }

    /// Fails unless every byte was read.
    pub(super) fn finish(&self) -> Result<(), PackError> {
        (self.at == self.bytes.len()).then_some(()).ok_or(PackError::Malformed(self.section))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], PackError> {
        let end = self.at.checked_add(len).filter(|&end| end <= self.bytes.len()).ok_or(PackError::Malformed(self.section))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    pub(super) fn u32(&mut self) -> Result<u32, PackError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    /// A count (u32) and that many f32 values, little-endian.
    pub(super) fn f32s(&mut self) -> Result<Vec<f32>, PackError> {
        let count = self.u32()? as usize;
        let bytes = self.take(count.checked_mul(4).ok_or(PackError::Malformed(self.section))?)?;
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
    }

    /// A count (u32) and that many bytes, as int8 values.
    pub(super) fn i8s(&mut self) -> Result<Vec<i8>, PackError> {
        let count = self.u32()? as usize;
        Ok(self.take(count)?.iter().map(|&b| b as i8).collect())
    }

    fn i64(&mut self) -> Result<i64, PackError> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn varint(&mut self) -> Result<u32, PackError> {
        read_varint_checked(self.bytes, &mut self.at).ok_or(PackError::Malformed(self.section))
    }

    /// `n` lists of indices below `limit`, each a count and its values (LEB128),
    /// as `n + 1` offsets and the values.
    fn lists(&mut self, n: usize, limit: usize) -> Result<(Vec<u32>, Vec<u32>), PackError> {
        let mut bounds = Vec::with_capacity(n + 1);
        let mut values = Vec::new();
        bounds.push(0);
        for _ in 0..n {
            for _ in 0..self.varint()? {
                let value = self.varint()?;
                if value as usize >= limit {
                    return Err(PackError::Malformed(self.section));
                }
                values.push(value);
            }
            bounds.push(offset(values.len())?);
        }
        Ok((bounds, values))
    }

    fn string(&mut self) -> Result<String, PackError> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map(str::to_string).map_err(|_| PackError::Malformed(self.section))
    }
}

/// Each list as its length and its values, LEB128.
fn push_lists<'a>(out: &mut Vec<u8>, lists: impl Iterator<Item = &'a [u32]>) {
    for list in lists {
        push_varint(out, list.len() as u32);
        list.iter().for_each(|&v| push_varint(out, v));
    }
}

impl ItemTable {
    pub(super) fn new(items: &[Item]) -> Result<Self, PackError> {
        let n = items.len();
        let mut table = ItemTable {
            bounds: Vec::with_capacity(2 * n + 1),
            category_bounds: Vec::with_capacity(n + 1),
            tag_bounds: Vec::with_capacity(n + 1),
            sensitive: Vec::with_capacity(n),
            ..ItemTable::default()
        };
        table.bounds.push(0);
        table.category_bounds.push(0);
        table.tag_bounds.push(0);
        let mut tag_index: HashMap<&str, u32> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            for text in [&item.id, &item.title] {
                table.text.push_str(text);
                table.bounds.push(offset(table.text.len())?);
            }
            table.category_list.extend_from_slice(&item.categories);
            table.category_bounds.push(offset(table.category_list.len())?);
            for tag in &item.tags {
                let next = table.tag_names.len() as u32;
                let at = *tag_index.entry(tag).or_insert(next);
                if at == next {
                    table.tag_names.push(tag.clone());
                }
                table.tag_list.push(at);
            }
            table.tag_bounds.push(offset(table.tag_list.len())?);
            table.sensitive.push(item.sensitive.map_or(0, |s| SENSITIVE.iter().position(|&c| c == s).expect("listed") as u8 + 1));
            if item.available_from_ms.is_some() || item.available_until_ms.is_some() {
                table.windows.insert(i as u32, (item.available_from_ms, item.available_until_ms));
            }
        }
        Ok(table.with_repeatable())
    }

    fn with_repeatable(mut self) -> Self {
        let repeatable = self.tag_names.iter().position(|t| t == crate::rank::REPEATABLE_TAG).map(|t| t as u32);
        self.repeatable = (0..self.len() as u32).map(|i| repeatable.is_some_and(|r| self.tags(i).contains(&r))).collect();
        self
    }

    /// Number of items.
    pub(super) fn len(&self) -> usize {
        self.sensitive.len()
    }

    /// The items section: the item count and text length (u32 LE), the text,
    /// each id's and title's length (LEB128), each item's categories (a count
    /// and the indices, LEB128), the sensitivity codes, the tag names, each
    /// item's tags as its categories, and the availability windows.
    pub(super) fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        out.extend_from_slice(self.text.as_bytes());
        self.bounds.windows(2).for_each(|w| push_varint(&mut out, w[1] - w[0]));
        let n = self.len() as u32;
        push_lists(&mut out, (0..n).map(|i| self.categories(i)));
        out.extend_from_slice(&self.sensitive);
        out.extend_from_slice(&(self.tag_names.len() as u32).to_le_bytes());
        for name in &self.tag_names {
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        push_lists(&mut out, (0..n).map(|i| self.tags(i)));
        let mut windows: Vec<_> = self.windows.iter().collect();
        windows.sort_unstable_by_key(|(&i, _)| i);
        out.extend_from_slice(&(windows.len() as u32).to_le_bytes());
        for (&i, &(from, until)) in windows {
            out.extend_from_slice(&i.to_le_bytes());
            out.push(u8::from(from.is_some()) | u8::from(until.is_some()) << 1);
            out.extend_from_slice(&from.unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&until.unwrap_or(0).to_le_bytes());
        }
        out
    }

    /// Reads and checks an items section for `n_categories` categories: UTF-8
    /// text cut at character boundaries, non-empty ids, offsets in order,
    /// every category, tag and window within range.
    pub(super) fn from_wire(body: &[u8], n_categories: usize) -> Result<Self, PackError> {
        let bad = || PackError::Malformed("items");
        let unknown = || PackError::Malformed("item with empty id or unknown category");
        let mut r = Reader::new(body, "items");
        let n = r.u32()? as usize;
        let text_len = r.u32()? as usize;
        let text = std::str::from_utf8(r.take(text_len)?).map_err(|_| bad())?.to_string();
        // Every item takes at least a byte per list below: a count past the bytes left is refused before allocating.
        if n > body.len() {
            return Err(bad());
        }
        let mut bounds = Vec::with_capacity(2 * n + 1);
        bounds.push(0u32);
        for piece in 0..2 * n {
            let end = bounds[piece].checked_add(r.varint()?).filter(|&end| end as usize <= text.len()).ok_or_else(bad)?;
            let is_id = piece % 2 == 0;
            if !text.is_char_boundary(end as usize) || (is_id && end == bounds[piece]) {
                return Err(unknown());
            }
            bounds.push(end);
        }
        if bounds[2 * n] as usize != text.len() {
            return Err(bad());
        }
        let (category_bounds, category_list) = r.lists(n, n_categories).map_err(|_| unknown())?;
        let sensitive = r.take(n)?.to_vec();
        if sensitive.iter().any(|&s| usize::from(s) > SENSITIVE.len()) {
            return Err(bad());
        }
        let tag_names = (0..r.u32()?).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
        let (tag_bounds, tag_list) = r.lists(n, tag_names.len())?;
        let mut windows = HashMap::new();
        for _ in 0..r.u32()? {
            let (i, mask) = (r.u32()?, r.take(1)?[0]);
            let (from, until) = (r.i64()?, r.i64()?);
            if i as usize >= n || mask > 3 || windows.insert(i, ((mask & 1 != 0).then_some(from), (mask & 2 != 0).then_some(until))).is_some() {
                return Err(bad());
            }
        }
        r.finish()?;
        let table = ItemTable { text, bounds, category_bounds, category_list, sensitive, tag_names, tag_bounds, tag_list, repeatable: Vec::new(), windows };
        Ok(table.with_repeatable())
    }

    /// The items again, as the builder holds them.
    pub(super) fn items(&self) -> Vec<Item> {
        (0..self.len() as u32)
            .map(|i| {
                let (available_from_ms, available_until_ms) = self.window(i);
                Item {
                    id: self.id(i).to_string(),
                    title: self.title(i).to_string(),
                    categories: self.categories(i).to_vec(),
                    tags: self.tags(i).iter().map(|&t| self.tag_names[t as usize].clone()).collect(),
                    sensitive: self.item_sensitive(i),
                    available_from_ms,
                    available_until_ms,
                }
            })
            .collect()
    }

    fn text(&self, at: usize) -> &str {
        &self.text[self.bounds[at] as usize..self.bounds[at + 1] as usize]
    }

    pub(super) fn id(&self, i: u32) -> &str {
        self.text(2 * i as usize)
    }

    pub(super) fn title(&self, i: u32) -> &str {
        self.text(2 * i as usize + 1)
    }

    pub(super) fn categories(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.category_list[self.category_bounds[i] as usize..self.category_bounds[i + 1] as usize]
    }

    fn tags(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.tag_list[self.tag_bounds[i] as usize..self.tag_bounds[i + 1] as usize]
    }

    /// The item's own sensitive category, if it has one.
    pub(super) fn item_sensitive(&self, i: u32) -> Option<SensitiveCategory> {
        self.sensitive[i as usize].checked_sub(1).map(|code| SENSITIVE[usize::from(code)])
    }

    pub(super) fn is_repeatable(&self, i: u32) -> bool {
        self.repeatable[i as usize]
    }

    pub(super) fn window(&self, i: u32) -> (Option<i64>, Option<i64>) {
        // Most catalogues have no windows: no hashing per ranked item then.
        if self.windows.is_empty() {
            return (None, None);
        }
        self.windows.get(&i).copied().unwrap_or_default()
    }

    /// Bytes held, for reports.
    pub(super) fn heap_bytes(&self) -> usize {
        let lists =
            self.bounds.capacity() + self.category_bounds.capacity() + self.category_list.capacity() + self.tag_bounds.capacity() + self.tag_list.capacity();
        self.text.capacity() + 4 * lists + self.sensitive.capacity() + self.repeatable.capacity() + 32 * self.windows.capacity()
    }
}

fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint at `*at` of untrusted bytes, advancing it; `None` if it runs
/// past the end or past 32 bits.
fn read_varint_checked(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value = 0u32;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return (shift < 28 || byte < 0x10).then_some(value);
        }
    }
    None
}

/// Item index by id, through 64-bit hashes of the ids (the ids themselves
/// stay in the [`ItemTable`]); the rare ids whose hash another id already has
/// are kept whole beside.
#[derive(Debug, Clone, Default)]
pub(super) struct IdIndex {
    by_hash: HashMap<u64, u32>,
    collided: HashMap<String, u32>,
}

fn id_hash(id: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hasher.write(id.as_bytes());
    hasher.finish()
}

impl IdIndex {
    /// Indexes every item of `table`; fails if an id repeats.
    pub(super) fn new(table: &ItemTable, n: usize) -> Result<Self, PackError> {
        let mut index = IdIndex { by_hash: HashMap::with_capacity(n), collided: HashMap::new() };
        for i in 0..n as u32 {
            let id = table.id(i);
            match index.by_hash.entry(id_hash(id)) {
                std::collections::hash_map::Entry::Vacant(slot) => drop(slot.insert(i)),
                std::collections::hash_map::Entry::Occupied(other) if table.id(*other.get()) == id => {
                    return Err(PackError::Malformed("duplicate item id"));
                }
                std::collections::hash_map::Entry::Occupied(_) => {
                    if index.collided.insert(id.to_string(), i).is_some() {
                        return Err(PackError::Malformed("duplicate item id"));
                    }
                }
            }
        }
        Ok(index)
    }

    pub(super) fn get(&self, table: &ItemTable, id: &str) -> Option<u32> {
        match self.by_hash.get(&id_hash(id)) {
            Some(&i) if table.id(i) == id => Some(i),
            _ => self.collided.get(id).copied(),
        }
    }

    /// Bytes held, for reports (an estimate of the hash tables' slots).
    pub(super) fn heap_bytes(&self) -> usize {
        self.by_hash.capacity() * 13 + self.collided.keys().map(|k| k.len() + 40).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_items_section_reads_back_and_refuses_what_does_not_fit() {
        let item = |id: &str, tags: &[&str], sensitive| Item {
            id: id.into(),
            title: format!("Tïtle {id}"),
            categories: vec![1],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            sensitive,
            available_from_ms: None,
            available_until_ms: Some(i64::MAX),
        };
        let items = vec![item("a", &["repeatable", "x"], None), item("b", &[], Some(SensitiveCategory::Children)), item("c", &["x"], None)];
        let wire = ItemTable::new(&items).unwrap().to_wire();
        let table = ItemTable::from_wire(&wire, 2).unwrap();
        assert_eq!(table.items(), items);
        assert!(table.is_repeatable(0) && !table.is_repeatable(2));
        assert_eq!(ItemTable::from_wire(&wire, 1).unwrap_err(), PackError::Malformed("item with empty id or unknown category"));
        assert_eq!(ItemTable::from_wire(&wire[..wire.len() - 1], 2).unwrap_err(), PackError::Malformed("items"));
        let empty_id = ItemTable::new(&[item("", &[], None)]).unwrap().to_wire();
        assert_eq!(ItemTable::from_wire(&empty_id, 2).unwrap_err(), PackError::Malformed("item with empty id or unknown category"));
        let mut split_char = ItemTable::new(&[item("a", &[], None)]).unwrap().to_wire();
        // After the count, the text length and the 9 bytes of "a" and "Tïtle a": the
        // id's and the title's lengths, moved to 3 and 6 so that the id ends inside "ï".
        (split_char[17], split_char[18]) = (3, 6);
        assert!(ItemTable::from_wire(&split_char, 2).is_err());
    }

    #[test]
    fn ids_are_found_through_their_hashes_and_repeats_refused() {
        let item = |id: &str| Item {
            id: id.into(),
            title: format!("T {id}"),
            categories: vec![1, 2],
            tags: vec!["repeatable".into()],
            sensitive: None,
            available_from_ms: Some(5),
            available_until_ms: None,
        };
        let items: Vec<Item> = ["a", "bb", "ccc"].into_iter().map(item).collect();
        let table = ItemTable::new(&items).unwrap();
        let index = IdIndex::new(&table, 3).unwrap();
        assert_eq!((index.get(&table, "bb"), index.get(&table, "b"), index.get(&table, "")), (Some(1), None, None));
        assert_eq!((table.id(2), table.title(2), table.categories(2)), ("ccc", "T ccc", &[1u32, 2][..]));
        assert!(table.is_repeatable(0) && table.window(1) == (Some(5), None));
        let twice = ItemTable::new(&[item("a"), item("a")]).unwrap();
        assert_eq!(IdIndex::new(&twice, 2).unwrap_err(), PackError::Malformed("duplicate item id"));
        // An id whose hash another id already holds is kept whole beside.
        let mut collided = IdIndex::new(&table, 2).unwrap();
        collided.collided.insert("ccc".into(), 2);
        assert_eq!(collided.get(&table, "ccc"), Some(2));
    }
}
