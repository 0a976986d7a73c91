//! An embedded, deterministic synthetic shop: a catalogue with categories and
//! "styles" inside them, and simulated shoppers with latent tastes and
//! time-of-day habits. Everything derives from a fixed seed.

use mizan::catalog::{Category, Item, SensitiveCategory};
use mizan::packer::Interaction;
use mizan::{Event, EventKind};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Items per category.
const ITEMS_PER_CATEGORY: usize = 24;
/// Items in a category share one of this many styles; a shopper prefers one.
const STYLES: usize = 4;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The moment the demo happens: 2026-03-02 09:00 UTC.
pub const DEMO_NOW_MS: i64 = 1_772_442_000_000;

const CATEGORIES: [(&str, Option<SensitiveCategory>, [&str; 6]); 12] = [
    ("Fresh Produce", None, ["Bananas", "Avocados", "Tomatoes", "Spinach", "Mangoes", "Lemons"]),
    ("Bakery", None, ["Sourdough", "Croissants", "Bagels", "Rye Bread", "Muffins", "Pita"]),
    ("Dairy", None, ["Yoghurt", "Feta", "Labneh", "Milk", "Butter", "Halloumi"]),
    ("Coffee & Tea", None, ["Espresso Beans", "Green Tea", "Cardamom Coffee", "Chai", "Cold Brew", "Mint Tea"]),
    ("Electronics", None, ["Earbuds", "Power Bank", "Smartwatch", "USB-C Hub", "Speaker", "E-reader"]),
    ("Books", None, ["Novel", "Cookbook", "Poetry", "History", "Thriller", "Travel Guide"]),
    ("Fashion", None, ["Scarf", "Sneakers", "Abaya", "Denim Jacket", "Sunglasses", "Linen Shirt"]),
    ("Home & Kitchen", None, ["Dallah", "Frying Pan", "Knife Set", "Rug", "Candle", "Tea Set"]),
    ("Sports & Outdoors", None, ["Running Shoes", "Yoga Mat", "Water Bottle", "Tent", "Dumbbells", "Cycling Helmet"]),
    ("Beauty", None, ["Oud Perfume", "Face Serum", "Sunscreen", "Hair Oil", "Lip Balm", "Kohl"]),
    ("Toys & Games", None, ["Puzzle", "Board Game", "Kite", "Building Blocks", "Card Game", "Robot Kit"]),
    ("Pharmacy", Some(SensitiveCategory::Health), ["Vitamins", "Pain Relief", "Allergy Tablets", "Cough Syrup", "Plasters", "Thermometer"]),
];
const STYLE_NAMES: [&str; STYLES] = ["Classic", "Organic", "Premium", "Everyday"];

/// The synthetic catalogue.
pub struct Shop {
    /// Categories, in pack order.
    pub categories: Vec<Category>,
    /// Items, in pack order.
    pub items: Vec<Item>,
}

impl Shop {
    /// Builds the fixed catalogue.
    pub fn new() -> Self {
        let categories = CATEGORIES.iter().map(|(name, s, _)| Category { name: name.to_string(), sensitive: *s }).collect();
        let mut items = Vec::new();
        for (c, (_, _, nouns)) in CATEGORIES.iter().enumerate() {
            for k in 0..ITEMS_PER_CATEGORY {
                let style = k % STYLES;
                let noun = nouns[(k / STYLES) % nouns.len()];
                items.push(Item {
                    id: format!("sku-{c:02}-{k:02}"),
                    title: format!("{} {noun}", STYLE_NAMES[style]),
                    categories: vec![c as u32],
                    tags: vec![STYLE_NAMES[style].to_lowercase()],
                    sensitive: None,
                    available_from_ms: None,
                    available_until_ms: None,
                });
            }
        }
        Shop { categories, items }
    }

    /// The index of the category called `name`.
    pub fn category(&self, name: &str) -> usize {
        self.categories.iter().position(|c| c.name == name).expect("known category")
    }

    fn item_index(category: usize, style: usize, k: usize) -> usize {
        category * ITEMS_PER_CATEGORY + style + STYLES * (k % (ITEMS_PER_CATEGORY / STYLES))
    }
}

/// A simulated shopper's hidden tastes.
#[derive(Debug, Clone)]
pub struct Shopper {
    /// Display name.
    pub name: &'static str,
    /// Favourite categories with weights.
    pub tastes: Vec<(usize, f64)>,
    /// The style they prefer within every category.
    pub style: usize,
    /// The hour (UTC) they usually shop.
    pub usual_hour: i64,
}

impl Shopper {
    /// A random shopper for the background population.
    pub fn random(rng: &mut ChaCha8Rng, n_categories: usize) -> Self {
        let n = rng.random_range(1..=3);
        let tastes = (0..n).map(|_| (rng.random_range(0..n_categories), rng.random_range(0.5..2.0))).collect();
        Shopper { name: "population", tastes, style: rng.random_range(0..STYLES), usual_hour: rng.random_range(6..23) }
    }

    /// Simulates `sessions` shopping sessions ending before `until_ms`.
    pub fn simulate(&self, rng: &mut ChaCha8Rng, sessions: usize, until_ms: i64) -> Vec<Event> {
        let mut events = Vec::new();
        for s in 0..sessions {
            let day = until_ms - (sessions - s) as i64 * DAY_MS;
            let start = day - day.rem_euclid(DAY_MS) + self.usual_hour * HOUR_MS + rng.random_range(0..HOUR_MS);
            let category = self.pick_category(rng);
            let mut t = start;
            for _ in 0..rng.random_range(2..6) {
                let style = if rng.random_bool(0.8) { self.style } else { rng.random_range(0..STYLES) };
                let item = &Shop::item_index(category, style, rng.random_range(0..ITEMS_PER_CATEGORY));
                let id = format!("sku-{category:02}-{:02}", item % ITEMS_PER_CATEGORY);
                t += rng.random_range(20_000..180_000);
                let mut view = Event::new(EventKind::View, id.clone(), t);
                view.dwell_secs = Some(rng.random_range(3.0..90.0));
                events.push(view);
                if rng.random_bool(0.25) {
                    t += 10_000;
                    events.push(Event::new(EventKind::AddToCart, id.clone(), t));
                    if rng.random_bool(0.6) {
                        t += 60_000;
                        events.push(Event::new(EventKind::Purchase, id, t));
                    }
                }
            }
        }
        events
    }

    fn pick_category(&self, rng: &mut ChaCha8Rng) -> usize {
        *self.tastes.choose_weighted(rng, |t| t.1).map(|(c, _)| c).expect("tastes are non-empty")
    }
}

/// The background population's interactions, for the packer.
pub fn population_interactions(shop: &Shop, shoppers: usize, seed: u64) -> Vec<Interaction> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let index = |id: &str| shop.items.iter().position(|i| i.id == id).expect("simulated ids exist") as u32;
    let mut out = Vec::new();
    for user in 0..shoppers {
        let shopper = Shopper::random(&mut rng, shop.categories.len());
        let sessions = rng.random_range(4..14);
        for e in shopper.simulate(&mut rng, sessions, DEMO_NOW_MS - 7 * DAY_MS) {
            out.push(Interaction { user: user as u32, item: index(&e.item_id), timestamp_ms: e.timestamp_ms });
        }
    }
    out
}
