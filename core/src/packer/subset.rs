//! Packs for part of a catalogue bigger than a phone should hold: one market,
//! a few sections, or the most used items. The lists are learned over the whole
//! catalogue, then cut to the part kept (links to items outside it dropped), and
//! the pack records what it covers.

use super::{Learned, PackerError};
use crate::catalog::{Category, Coverage, Item};

/// Which part of a catalogue a pack keeps; empty fields keep everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subset {
    /// Keep items in any of these categories (by name).
    pub categories: Vec<String>,
    /// Keep items carrying any of these tags (e.g. a market's tag).
    pub tags: Vec<String>,
    /// Then keep at most this many, the most interacted with (ties by catalogue order).
    pub most_interacted: Option<usize>,
}

impl Subset {
    /// Whether the subset keeps the whole catalogue.
    pub fn is_whole(&self) -> bool {
        self.categories.is_empty() && self.tags.is_empty() && self.most_interacted.is_none()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.categories.is_empty() {
            parts.push(format!("categories: {}", self.categories.join(", ")));
        }
        if !self.tags.is_empty() {
            parts.push(format!("tags: {}", self.tags.join(", ")));
        }
        if let Some(n) = self.most_interacted {
            parts.push(format!("the {n} most interacted items"));
        }
        parts.join("; ")
    }
}

/// A catalogue part with what was learned about it, re-indexed.
#[derive(Debug)]
pub struct Restricted {
    /// The items kept, in catalogue order.
    pub items: Vec<Item>,
    /// What was learned, for the kept items only.
    pub learned: Learned,
    /// The kept items' factor rows (`(dim, rows)`), if there were factors.
    pub factors: Option<(usize, Vec<f32>)>,
    /// What the pack covers.
    pub coverage: Coverage,
}

/// Cuts `items` (whose categories are `categories`), `learned` and `factors` to `subset`.
pub fn restrict(
    items: Vec<Item>,
    categories: &[Category],
    learned: Learned,
    factors: Option<(usize, Vec<f32>)>,
    subset: &Subset,
) -> Result<Restricted, PackerError> {
    let invalid = |reason: String| PackerError::Input { line: 0, reason };
    let mut wanted_categories = Vec::new();
    for name in &subset.categories {
        let index = categories.iter().position(|c| &c.name == name).ok_or_else(|| invalid(format!("no category named {name:?}")))?;
        wanted_categories.push(index as u32);
    }
    let mut keep: Vec<bool> = items
        .iter()
        .map(|item| {
            (wanted_categories.is_empty() || item.categories.iter().any(|c| wanted_categories.contains(c)))
                && (subset.tags.is_empty() || item.tags.iter().any(|t| subset.tags.contains(t)))
        })
        .collect();
    if let Some(n) = subset.most_interacted {
        let mut ranked: Vec<usize> = (0..items.len()).filter(|&i| keep[i]).collect();
        ranked.sort_by(|&a, &b| learned.counts[b].total_cmp(&learned.counts[a]).then(a.cmp(&b)));
        ranked.iter().skip(n).for_each(|&i| keep[i] = false);
    }
    let mut new_index = vec![u32::MAX; items.len()];
    let mut kept = 0u32;
    for (i, _) in keep.iter().enumerate().filter(|(_, &k)| k) {
        new_index[i] = kept;
        kept += 1;
    }
    if kept == 0 {
        return Err(invalid(format!("the subset ({}) keeps no item", subset.describe())));
    }
    let source_items = items.len() as u64;
    let pick = |values: Vec<f64>| values.into_iter().zip(&keep).filter(|(_, &k)| k).map(|(v, _)| v).collect();
    let cut = |rows: Vec<super::Row>| -> Vec<super::Row> {
        rows.into_iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(row, _)| row.into_iter().filter_map(|(j, w)| Some((*new_index.get(j as usize).filter(|&&n| n != u32::MAX)?, w))).collect())
            .collect()
    };
    let learned = Learned {
        model: learned.model,
        neighbours: cut(learned.neighbours),
        transitions: cut(learned.transitions),
        counts: pick(learned.counts),
        trend_counts: pick(learned.trend_counts),
        trend_as_of_ms: learned.trend_as_of_ms,
        repeat_users: learned.repeat_users.into_iter().zip(&keep).filter(|(_, &k)| k).map(|(r, _)| r).collect(),
        repeat_gap_hours: learned.repeat_gap_hours.into_iter().zip(&keep).filter(|(_, &k)| k).map(|(g, _)| g).collect(),
    };
    let factors = factors.map(|(dim, rows)| {
        let kept_rows = rows.chunks(dim.max(1)).zip(&keep).filter(|(_, &k)| k).flat_map(|(row, _)| row.iter().copied()).collect();
        (dim, kept_rows)
    });
    let items = items.into_iter().zip(&keep).filter(|(_, &k)| k).map(|(item, _)| item).collect();
    Ok(Restricted { items, learned, factors, coverage: Coverage { subset: subset.describe(), source_items } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packer::tests::item;

    fn catalogue() -> (Vec<Item>, Vec<Category>) {
        let categories = ["Dairy", "Bakery"].map(|name| Category { name: name.into(), sensitive: None }).to_vec();
        let items = (0..4u32)
            .map(|i| Item { categories: vec![i % 2], tags: vec![if i < 2 { "market:sa" } else { "market:ae" }.into()], ..item(&format!("i{i}")) })
            .collect();
        (items, categories)
    }

    fn learned() -> Learned {
        Learned {
            model: "llr".into(),
            neighbours: vec![vec![(2, 0.9), (1, 0.5)], vec![(3, 0.4)], vec![(0, 0.9)], vec![(1, 0.4)]],
            transitions: vec![vec![], vec![], vec![(0, 1.0)], vec![]],
            counts: vec![5.0, 1.0, 9.0, 2.0],
            trend_counts: vec![0.5, 0.1, 0.9, 0.2],
            trend_as_of_ms: 7,
            repeat_users: vec![(0, 0); 4],
            repeat_gap_hours: vec![0; 4],
        }
    }

    #[test]
    fn a_category_keeps_its_items_and_the_links_among_them() {
        let (items, categories) = catalogue();
        let subset = Subset { categories: vec!["Dairy".into()], ..Default::default() };
        let part = restrict(items, &categories, learned(), Some((1, vec![0.0, 1.0, 2.0, 3.0])), &subset).unwrap();
        assert_eq!(part.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["i0", "i2"]);
        assert_eq!(part.learned.neighbours, vec![vec![(1, 0.9)], vec![(0, 0.9)]], "i0 → i1 left with i1");
        assert_eq!(part.learned.transitions, vec![vec![], vec![(0, 1.0)]]);
        assert_eq!((part.learned.counts, part.learned.trend_counts), (vec![5.0, 9.0], vec![0.5, 0.9]));
        assert_eq!(part.factors, Some((1, vec![0.0, 2.0])));
        assert_eq!(part.coverage, Coverage { subset: "categories: Dairy".into(), source_items: 4 });
    }

    #[test]
    fn a_market_tag_and_a_size_cap_combine() {
        let (items, categories) = catalogue();
        let subset = Subset { tags: vec!["market:ae".into()], most_interacted: Some(1), ..Default::default() };
        let part = restrict(items, &categories, learned(), None, &subset).unwrap();
        assert_eq!(part.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["i2"]);
        assert_eq!(part.coverage.subset, "tags: market:ae; the 1 most interacted items");
    }

    #[test]
    fn a_subset_naming_nothing_real_or_keeping_nothing_is_refused() {
        let (items, categories) = catalogue();
        let typo = Subset { categories: vec!["Diary".into()], ..Default::default() };
        assert!(restrict(items.clone(), &categories, learned(), None, &typo).unwrap_err().to_string().contains("Diary"));
        let none = Subset { tags: vec!["market:xx".into()], ..Default::default() };
        assert!(restrict(items, &categories, learned(), None, &none).is_err());
    }
}
