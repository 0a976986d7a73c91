//! The words of one list's reasons. A list repeats itself: "Popular in
//! Drama" under half its items, the same history item behind several, one
//! category named again and again. Each distinct text is made once per list
//! and shared by every reason that says it.

use std::sync::Arc;

use crate::events::EventKind;

/// What a text says, and so which reasons may share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// An item's catalogue id.
    ItemId(u32),
    /// A category's display name.
    CategoryName(u32),
    /// "Because you {verb} {title of source} ({association})".
    Because { source: u32, verb: EventKind, association: Association },
    /// "You often look at {category}".
    Interest(u32),
    /// "Popular in {category}", or "Popular with everyone" without one.
    Popular(Option<u32>),
    /// "Trending in {category}", or "Trending now" without one.
    Trending(Option<u32>),
    /// "Something different to explore: popular in {category}".
    Explore(u32),
    /// "Something new for you".
    New,
}

/// How a history item is associated with the item it explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Association {
    /// Through neighbour links: "often chosen together".
    Together,
    /// Through transitions or the sequence network: "often chosen next".
    Next,
    /// Through embeddings: "liked by the same people".
    Alike,
}

impl Association {
    /// The words in a reason's brackets.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Association::Together => "often chosen together",
            Association::Next => "often chosen next",
            Association::Alike => "liked by the same people",
        }
    }
}

impl Text {
    /// The text as one integer (variant, two small fields, an index), so
    /// looking a list's texts up is a scan over integers.
    fn key(self) -> u64 {
        let (variant, a, b, index): (u64, u64, u64, Option<u32>) = match self {
            Text::ItemId(i) => (0, 0, 0, Some(i)),
            Text::CategoryName(c) => (1, 0, 0, Some(c)),
            Text::Because { source, verb, association } => (2, verb as u64, association as u64, Some(source)),
            Text::Interest(c) => (3, 0, 0, Some(c)),
            Text::Popular(c) => (4, 0, 0, c),
            Text::Trending(c) => (5, 0, 0, c),
            Text::Explore(c) => (6, 0, 0, Some(c)),
            Text::New => (7, 0, 0, None),
        };
        // No index and index 0 stay apart: bit 32 says an index is there.
        let index = index.map_or(0, |i| (1 << 32) | u64::from(i));
        (variant << 56) | (a << 48) | (b << 40) | index
    }
}

/// The texts made so far for the list being worded; cleared between lists,
/// so nothing of one person's history outlives the call that named it.
#[derive(Debug, Default)]
pub(crate) struct SharedTexts {
    keys: Vec<u64>,
    made: Vec<Arc<str>>,
    buffer: String,
}

impl SharedTexts {
    /// The text for `key`, joined from `parts` the first time the list says it.
    pub(crate) fn say(&mut self, key: Text, parts: &[&str]) -> Arc<str> {
        let key = key.key();
        if let Some(at) = self.keys.iter().position(|&made| made == key) {
            return Arc::clone(&self.made[at]);
        }
        self.buffer.clear();
        parts.iter().for_each(|p| self.buffer.push_str(p));
        let text: Arc<str> = Arc::from(self.buffer.as_str());
        self.keys.push(key);
        self.made.push(Arc::clone(&text));
        text
    }

    /// Forgets the list's texts (what the returned reasons hold stays theirs).
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.made.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_text_is_made_once_per_list_and_shared() {
        let mut texts = SharedTexts::default();
        let first = texts.say(Text::Interest(3), &["You often look at ", "Drama"]);
        let again = texts.say(Text::Interest(3), &["never", " used"]);
        assert_eq!(&*first, "You often look at Drama");
        assert!(Arc::ptr_eq(&first, &again));
        let other = texts.say(Text::Interest(4), &["You often look at ", "Comedy"]);
        assert_eq!(&*other, "You often look at Comedy");
        let because = |verb| Text::Because { source: 1, verb, association: Association::Next };
        let viewed = texts.say(because(EventKind::View), &["viewed"]);
        assert_eq!(&*texts.say(because(EventKind::Purchase), &["bought"]), "bought", "another verb is another text");
        texts.clear();
        let fresh = texts.say(Text::Interest(3), &["You often look at ", "Drama"]);
        assert!(!Arc::ptr_eq(&first, &fresh), "a new list makes its own");
        assert_eq!(Arc::strong_count(&viewed), 1, "the cleared table holds nothing of the last list");
        assert_ne!(texts.say(Text::Popular(None), &["Popular with everyone"]), texts.say(Text::Popular(Some(0)), &["Popular in Drama"]));
        assert_ne!(texts.say(Text::Popular(Some(0)), &["Popular in Drama"]), texts.say(Text::Trending(Some(0)), &["Trending in Drama"]));
    }
}
