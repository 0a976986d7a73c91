//! Decoded link lists of the latest history items, kept between rankings.
//!
//! Every ranking walks the neighbour links of the latest items and the
//! transitions of the very latest. Between two requests those items change
//! by one or two, and Rice-coded links cost about 5 ns each to decode: so a
//! list is decoded when its item becomes one of the latest, not per request.

use crate::catalog::Catalog;
use crate::model::SEQUENCE_LINK_ITEMS;

/// How many lists a cache keeps: twice the most items a ranking reads links
/// of (the neighbour links of [`SEQUENCE_LINK_ITEMS`]; transitions are read
/// for fewer), so that a few new latest items do not evict lists still in use.
const CAPACITY: usize = 2 * SEQUENCE_LINK_ITEMS;

/// Decoded `(item, quantised weight)` lists by source item, for one
/// catalogue, the least recently used replaced first.
#[derive(Debug, Default)]
pub(crate) struct LinkCache {
    /// The [`Catalog::instance`] the lists were decoded from.
    catalog: Option<u64>,
    /// Counts lookups, to tell which list was used least recently.
    tick: u64,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    source: u32,
    used: u64,
    links: Vec<(u32, i8)>,
}

impl LinkCache {
    /// `source`'s links in `catalog`, decoded by `decode` (into an empty
    /// buffer) unless this cache holds them already.
    pub(crate) fn links(&mut self, catalog: &Catalog, source: u32, decode: impl FnOnce(&mut Vec<(u32, i8)>)) -> &[(u32, i8)] {
        if self.catalog != Some(catalog.instance()) {
            self.entries.clear();
            self.catalog = Some(catalog.instance());
        }
        self.tick += 1;
        let at = match self.entries.iter().position(|e| e.source == source) {
            Some(at) => at,
            None => {
                let at = match self.entries.len() < CAPACITY {
                    true => {
                        self.entries.push(Entry { source, used: 0, links: Vec::new() });
                        self.entries.len() - 1
                    }
                    false => (0..self.entries.len()).min_by_key(|&at| self.entries[at].used).unwrap_or(0),
                };
                let entry = &mut self.entries[at];
                entry.source = source;
                entry.links.clear();
                decode(&mut entry.links);
                at
            }
        };
        self.entries[at].used = self.tick;
        &self.entries[at].links
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::tiny_pack;

    #[test]
    fn a_list_is_decoded_once_until_it_is_least_recently_used_or_the_catalogue_changes() {
        let catalog = Catalog::new(tiny_pack()).unwrap();
        let mut cache = LinkCache::default();
        let decoded = std::cell::Cell::new(0);
        let links = |cache: &mut LinkCache, catalog: &Catalog, source: u32| {
            cache
                .links(catalog, source, |out| {
                    decoded.set(decoded.get() + 1);
                    out.extend(catalog.neighbours(source % 3).quantised());
                })
                .to_vec()
        };
        assert_eq!(links(&mut cache, &catalog, 0), catalog.neighbours(0).quantised().collect::<Vec<_>>());
        links(&mut cache, &catalog, 0);
        assert_eq!(decoded.get(), 1, "kept");
        // Fill the cache past its capacity while source 0 stays in use: the
        // least recently used (source 1) goes first.
        for source in 1..=CAPACITY as u32 {
            links(&mut cache, &catalog, source);
            links(&mut cache, &catalog, 0);
        }
        assert_eq!(decoded.get(), 1 + CAPACITY);
        links(&mut cache, &catalog, 0);
        assert_eq!(decoded.get(), 1 + CAPACITY, "source 0 was used most recently and stayed");
        links(&mut cache, &catalog, 1);
        assert_eq!(decoded.get(), 2 + CAPACITY, "source 1 was evicted");
        let other = Catalog::new(tiny_pack()).unwrap();
        links(&mut cache, &other, 0);
        assert_eq!(decoded.get(), 3 + CAPACITY, "another catalogue decodes afresh, even with the same contents");
    }
}
