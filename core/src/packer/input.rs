//! Packer inputs: a catalogue (JSON or CSV) and an interaction log (CSV).

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;

use super::{Interaction, PackerError};
use crate::catalog::{Category, Item, SensitiveCategory};

/// A parsed catalogue, ready for [`super::build_pack`].
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogInput {
    /// Categories in first-seen order.
    pub categories: Vec<Category>,
    /// Items in file order.
    pub items: Vec<Item>,
}

/// A parsed interaction log.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionsInput {
    /// Interactions on known items (users numbered in first-seen order).
    pub interactions: Vec<Interaction>,
    /// Rows naming items the catalogue does not have (skipped).
    pub unknown_items: usize,
    /// Malformed rows (skipped): a missing field or a timestamp that is not a number.
    pub bad_rows: usize,
    /// The first malformed row's line and what is wrong with it.
    pub first_bad_row: Option<(usize, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCatalog {
    #[serde(default)]
    sensitive_categories: HashMap<String, SensitiveCategory>,
    items: Vec<JsonItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonItem {
    id: String,
    title: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    sensitive: Option<SensitiveCategory>,
    #[serde(default)]
    available_from_ms: Option<i64>,
    #[serde(default)]
    available_until_ms: Option<i64>,
}

/// Reads `{"sensitive_categories": {"Pharmacy": "health"}, "items": [{"id", "title",
/// "categories": [..], "tags": [..], "sensitive"?, "available_from_ms"?, "available_until_ms"?}]}`.
pub fn read_catalog_json(reader: impl Read) -> Result<CatalogInput, PackerError> {
    let doc: JsonCatalog =
        serde_json::from_reader(reader).map_err(|e| PackerError::Input { line: e.line(), reason: e.to_string() })?;
    let mut builder = CatalogBuilder::new(doc.sensitive_categories);
    for (n, item) in doc.items.into_iter().enumerate() {
        let row = Row {
            id: item.id,
            title: item.title,
            categories: item.categories,
            tags: item.tags,
            sensitive: item.sensitive,
            from: item.available_from_ms,
            until: item.available_until_ms,
        };
        builder.push(n + 1, row)?;
    }
    Ok(builder.finish())
}

#[derive(Deserialize)]
struct CsvItem {
    id: String,
    title: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    sensitive: String,
    #[serde(default)]
    available_from_ms: Option<i64>,
    #[serde(default)]
    available_until_ms: Option<i64>,
}

/// Reads a CSV with header `id,title,categories,tags,sensitive,available_from_ms,available_until_ms`;
/// lists inside a cell are separated by `|`; `sensitive` names a sensitive kind (e.g. `health`)
/// that marks the item.
pub fn read_catalog_csv(reader: impl Read) -> Result<CatalogInput, PackerError> {
    let mut builder = CatalogBuilder::new(HashMap::new());
    for (n, record) in csv::Reader::from_reader(reader).deserialize::<CsvItem>().enumerate() {
        let line = n + 2;
        let item = record.map_err(|e| PackerError::Input { line, reason: e.to_string() })?;
        let sensitive = match item.sensitive.trim() {
            "" => None,
            kind => Some(
                serde_json::from_value(serde_json::Value::String(kind.to_string()))
                    .map_err(|_| PackerError::Input { line, reason: format!("unknown sensitive kind {kind:?}") })?,
            ),
        };
        let row = Row {
            id: item.id,
            title: item.title,
            categories: split_list(&item.categories),
            tags: split_list(&item.tags),
            sensitive,
            from: item.available_from_ms,
            until: item.available_until_ms,
        };
        builder.push(line, row)?;
    }
    Ok(builder.finish())
}

/// Reads a CSV with header `user,item,timestamp_ms` row by row; items are
/// matched to `catalog` ids. Malformed rows and rows on unknown items are
/// counted and skipped, not fatal: one bad row in a billion must not stop a build.
pub fn read_interactions_csv(reader: impl Read, catalog: &CatalogInput) -> Result<InteractionsInput, PackerError> {
    #[derive(Deserialize)]
    struct Row {
        user: String,
        item: String,
        timestamp_ms: i64,
    }
    let index: HashMap<&str, u32> = catalog.items.iter().enumerate().map(|(i, it)| (it.id.as_str(), i as u32)).collect();
    let mut users: HashMap<String, u32> = HashMap::new();
    let mut out = InteractionsInput { interactions: Vec::new(), unknown_items: 0, bad_rows: 0, first_bad_row: None };
    let mut reader = csv::Reader::from_reader(reader);
    let headers = reader.headers().map_err(|e| PackerError::Input { line: 1, reason: e.to_string() })?;
    if ["user", "item", "timestamp_ms"].iter().any(|h| !headers.iter().any(|c| c == *h)) {
        return Err(PackerError::Input { line: 1, reason: "the header must name user, item and timestamp_ms".into() });
    }
    for (n, record) in reader.deserialize::<Row>().enumerate() {
        let row = match record {
            Ok(row) => row,
            Err(e) => {
                out.bad_rows += 1;
                out.first_bad_row.get_or_insert((n + 2, e.to_string()));
                continue;
            }
        };
        let Some(&item) = index.get(row.item.as_str()) else {
            out.unknown_items += 1;
            continue;
        };
        let next = users.len() as u32;
        let user = *users.entry(row.user).or_insert(next);
        out.interactions.push(Interaction { user, item, timestamp_ms: row.timestamp_ms });
    }
    Ok(out)
}

/// Reads precomputed item factors, one row per item: `item,f1,f2,…` or
/// `item,"[f1, f2, …]"` (as Spark MLlib ALS `itemFactors` exports). Returns the
/// row-major factors in catalogue order; every catalogue item must have a row.
pub fn read_factors_csv(reader: impl Read, catalog: &CatalogInput) -> Result<(usize, Vec<f32>), PackerError> {
    let index: HashMap<&str, usize> = catalog.items.iter().enumerate().map(|(i, it)| (it.id.as_str(), i)).collect();
    let mut rows: Vec<Option<Vec<f32>>> = vec![None; catalog.items.len()];
    let mut dim = None;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    for (n, record) in reader.records().enumerate() {
        let line = n + 1;
        let bad = |reason: String| PackerError::Input { line, reason };
        let record = record.map_err(|e| bad(e.to_string()))?;
        let Some(id) = record.get(0) else { continue };
        let values: Result<Vec<f32>, _> = record
            .iter()
            .skip(1)
            .flat_map(|cell| cell.split([',', ' ', '[', ']']).filter(|s| !s.is_empty()).map(str::parse::<f32>).collect::<Vec<_>>())
            .collect();
        let Ok(values) = values else {
            if line == 1 {
                continue; // a header row
            }
            return Err(bad("factor is not a number".into()));
        };
        if *dim.get_or_insert(values.len()) != values.len() || values.is_empty() || !values.iter().all(|v| v.is_finite()) {
            return Err(bad("every row needs the same number of finite factors".into()));
        }
        let Some(&i) = index.get(id) else { continue };
        rows[i] = Some(values);
    }
    let dim = dim.ok_or(PackerError::Input { line: 0, reason: "no factor rows".into() })?;
    let missing = rows.iter().filter(|r| r.is_none()).count();
    if missing > 0 {
        return Err(PackerError::Input { line: 0, reason: format!("{missing} catalogue items have no factors") });
    }
    Ok((dim, rows.into_iter().flatten().flatten().collect()))
}

struct Row {
    id: String,
    title: String,
    categories: Vec<String>,
    tags: Vec<String>,
    sensitive: Option<SensitiveCategory>,
    from: Option<i64>,
    until: Option<i64>,
}

struct CatalogBuilder {
    sensitive_categories: HashMap<String, SensitiveCategory>,
    category_index: HashMap<String, u32>,
    categories: Vec<Category>,
    items: Vec<Item>,
    ids: std::collections::HashSet<String>,
}

impl CatalogBuilder {
    fn new(sensitive_categories: HashMap<String, SensitiveCategory>) -> Self {
        CatalogBuilder { sensitive_categories, category_index: HashMap::new(), categories: vec![], items: vec![], ids: Default::default() }
    }

    fn push(&mut self, line: usize, row: Row) -> Result<(), PackerError> {
        let bad = |reason: &str| PackerError::Input { line, reason: reason.to_string() };
        if row.id.trim().is_empty() || row.id.len() > crate::events::MAX_ID_LEN {
            return Err(bad("item id is empty or too long"));
        }
        if !self.ids.insert(row.id.clone()) {
            return Err(bad("duplicate item id"));
        }
        if let (Some(from), Some(until)) = (row.from, row.until) {
            if from > until {
                return Err(bad("availability window ends before it starts"));
            }
        }
        let categories = row
            .categories
            .into_iter()
            .map(|name| {
                let next = self.categories.len() as u32;
                *self.category_index.entry(name.clone()).or_insert_with(|| {
                    let sensitive = self.sensitive_categories.get(&name).copied();
                    self.categories.push(Category { name, sensitive });
                    next
                })
            })
            .collect();
        self.items.push(Item {
            id: row.id,
            title: row.title,
            categories,
            tags: row.tags,
            sensitive: row.sensitive,
            available_from_ms: row.from,
            available_until_ms: row.until,
        });
        Ok(())
    }

    fn finish(self) -> CatalogInput {
        CatalogInput { categories: self.categories, items: self.items }
    }
}

fn split_list(cell: &str) -> Vec<String> {
    cell.split('|').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_catalogues_agree() {
        let csv = "id,title,categories,tags,sensitive,available_from_ms,available_until_ms\n\
                   a,Apple,Fruit|Fresh,red,,,\n\
                   b,Aspirin,Pharmacy,,health,100,200\n";
        let json = r#"{"items": [
            {"id": "a", "title": "Apple", "categories": ["Fruit", "Fresh"], "tags": ["red"]},
            {"id": "b", "title": "Aspirin", "categories": ["Pharmacy"], "sensitive": "health",
             "available_from_ms": 100, "available_until_ms": 200}]}"#;
        let from_csv = read_catalog_csv(csv.as_bytes()).unwrap();
        assert_eq!(from_csv, read_catalog_json(json.as_bytes()).unwrap());
        assert_eq!(from_csv.categories.len(), 3);
        assert_eq!(from_csv.items[1].sensitive, Some(SensitiveCategory::Health));
    }

    #[test]
    fn bad_rows_name_their_line() {
        let csv = "id,title,categories,tags,sensitive,available_from_ms,available_until_ms\na,A,,,,,\na,B,,,,,\n";
        assert!(matches!(read_catalog_csv(csv.as_bytes()), Err(PackerError::Input { line: 3, .. })));
        let csv = "id,title,categories,tags,sensitive,available_from_ms,available_until_ms\na,A,,,mood,,\n";
        assert!(matches!(read_catalog_csv(csv.as_bytes()), Err(PackerError::Input { line: 2, .. })));
    }

    #[test]
    fn factors_read_in_plain_and_spark_layouts() {
        let catalog = read_catalog_json(r#"{"items": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}"#.as_bytes()).unwrap();
        let plain = "item,f1,f2\nb,3,4\na,1,2\nzzz,9,9\n";
        assert_eq!(read_factors_csv(plain.as_bytes(), &catalog).unwrap(), (2, vec![1.0, 2.0, 3.0, 4.0]));
        let spark = "a,\"[1.0, 2.0]\"\nb,\"[3.0, 4.0]\"\n";
        assert_eq!(read_factors_csv(spark.as_bytes(), &catalog).unwrap(), (2, vec![1.0, 2.0, 3.0, 4.0]));
        assert!(read_factors_csv("a,1,2\n".as_bytes(), &catalog).is_err(), "b has no factors");
        assert!(read_factors_csv("a,1,2\nb,1\n".as_bytes(), &catalog).is_err(), "ragged rows");
    }

    #[test]
    fn interactions_map_to_items_and_count_unknown_ones() {
        let catalog = read_catalog_json(r#"{"items": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}"#.as_bytes()).unwrap();
        let log = "user,item,timestamp_ms\nu1,a,5\nu2,b,6\nu1,zzz,7\nu1,b,8\n";
        let parsed = read_interactions_csv(log.as_bytes(), &catalog).unwrap();
        assert_eq!(parsed.unknown_items, 1);
        assert_eq!(parsed.interactions.len(), 3);
        assert_eq!(parsed.interactions[2], Interaction { user: 0, item: 1, timestamp_ms: 8 });
        assert_eq!(parsed.bad_rows, 0);
    }

    #[test]
    fn malformed_interaction_rows_are_counted_and_skipped_but_a_wrong_header_is_refused() {
        let catalog = read_catalog_json(r#"{"items": [{"id": "a", "title": "A"}]}"#.as_bytes()).unwrap();
        let log = "user,item,timestamp_ms\nu1,a,5\nu1,a,soon\nu2\nu2,a,9\n";
        let parsed = read_interactions_csv(log.as_bytes(), &catalog).unwrap();
        assert_eq!(parsed.interactions.len(), 2);
        assert_eq!(parsed.bad_rows, 2);
        assert_eq!(parsed.first_bad_row.map(|(line, _)| line), Some(3));
        assert!(read_interactions_csv("who,what,when\nu1,a,5\n".as_bytes(), &catalog).is_err());
    }
}
