//! What a pack learns, as files: the hand-over between the learning step (this
//! packer's `mizan pack learn`, or the Spark job `examples/spark/mizan_spark.py`)
//! and the signing step (`mizan pack build --learned`), which runs where the
//! signing key is. A learned directory holds:
//!
//! - `meta.json`: `{"model": "llr", "trend_as_of_ms": …}` (other keys are informational);
//! - `items`: CSV `item,count,trend,users,repeat_users,repeat_gap_hours`
//!   (interactions, the trend's decayed count, distinct users, users who came
//!   back to the item later, and the median hours between one person's orders
//!   of it; the last column is optional);
//! - `neighbours`: CSV `item,neighbour,weight`;
//! - `transitions`: CSV `item,next,weight`.
//!
//! Each table is a file `name.csv` or a directory `name/` of `*.csv` parts
//! (as Spark writes them, each with its header), read in name order. Items are
//! catalogue ids; a row naming an id the catalogue lacks is an error naming the
//! file and line, since it means the two sides used different catalogues.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{strongest_first, CatalogInput, Learned, PackerError};

#[derive(Serialize, Deserialize)]
struct Meta {
    model: String,
    trend_as_of_ms: i64,
}

/// Writes `learned` for a catalogue whose ids are `ids` into `dir` (created if needed).
pub fn write_learned(dir: &Path, learned: &Learned, ids: &[String]) -> Result<(), PackerError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let meta = Meta { model: learned.model.clone(), trend_as_of_ms: learned.trend_as_of_ms };
    std::fs::write(dir.join("meta.json"), serde_json::to_vec_pretty(&meta).map_err(|e| PackerError::Solver(e.to_string()))?)
        .map_err(|e| io_error(&dir.join("meta.json"), e))?;
    let mut items = table(dir, "items", "item,count,trend,users,repeat_users,repeat_gap_hours")?;
    for (i, id) in ids.iter().enumerate() {
        let (users, repeaters) = learned.repeat_users[i];
        let (count, trend, gap) = (learned.counts[i], learned.trend_counts[i], learned.repeat_gap_hours[i]);
        items.write_record([id.clone(), count.to_string(), trend.to_string(), users.to_string(), repeaters.to_string(), gap.to_string()])?;
    }
    items.flush()?;
    for (name, header, rows) in [("neighbours", "item,neighbour,weight", &learned.neighbours), ("transitions", "item,next,weight", &learned.transitions)] {
        let mut out = table(dir, name, header)?;
        for (i, row) in rows.iter().enumerate() {
            for &(j, w) in row {
                out.write_record([ids[i].as_str(), ids[j as usize].as_str(), w.to_string().as_str()])?;
            }
        }
        out.flush()?;
    }
    Ok(())
}

fn table(dir: &Path, name: &str, header: &str) -> Result<csv::Writer<File>, PackerError> {
    let path = dir.join(format!("{name}.csv"));
    let mut file = File::create(&path).map_err(|e| io_error(&path, e))?;
    writeln!(file, "{header}").map_err(|e| io_error(&path, e))?;
    Ok(csv::WriterBuilder::new().has_headers(false).from_writer(file))
}

/// Reads a learned directory for `catalog` (see the module docs).
pub fn read_learned(dir: &Path, catalog: &CatalogInput) -> Result<Learned, PackerError> {
    let n = catalog.items.len();
    let index: HashMap<&str, u32> = catalog.items.iter().enumerate().map(|(i, it)| (it.id.as_str(), i as u32)).collect();
    let meta_path = dir.join("meta.json");
    let meta: Meta = serde_json::from_slice(&std::fs::read(&meta_path).map_err(|e| io_error(&meta_path, e))?)
        .map_err(|e| PackerError::Input { line: e.line(), reason: format!("{}: {e}", meta_path.display()) })?;
    let mut learned = Learned {
        model: meta.model,
        neighbours: vec![Vec::new(); n],
        transitions: vec![Vec::new(); n],
        counts: vec![0.0; n],
        trend_counts: vec![0.0; n],
        trend_as_of_ms: meta.trend_as_of_ms,
        repeat_users: vec![(0, 0); n],
        repeat_gap_hours: vec![0; n],
    };
    for_rows(dir, "items", &index, |item, row| {
        learned.counts[item] = number(row, 1)?;
        learned.trend_counts[item] = number(row, 2)?;
        let whole = |column| row.get(column).map_or(Ok(0), |v| v.trim().parse::<u64>().map_err(|_| "a user count is not a whole number"));
        learned.repeat_users[item] = (whole(3)?, whole(4)?);
        learned.repeat_gap_hours[item] = u32::try_from(whole(5)?).map_err(|_| "a repeat gap is out of range")?;
        Ok(())
    })?;
    for (name, rows) in [("neighbours", &mut learned.neighbours), ("transitions", &mut learned.transitions)] {
        for_rows(dir, name, &index, |item, row| {
            let other = *index.get(row.get(1).unwrap_or_default()).ok_or("names an item the catalogue does not have")?;
            let weight = number(row, 2)? as f32;
            rows[item].push((other, weight));
            Ok(())
        })?;
        rows.iter_mut().for_each(|row| strongest_first(row));
    }
    Ok(learned)
}

/// Calls `each` with the catalogue index of every row's first column and the row.
fn for_rows(
    dir: &Path,
    name: &str,
    index: &HashMap<&str, u32>,
    mut each: impl FnMut(usize, &csv::StringRecord) -> Result<(), &'static str>,
) -> Result<(), PackerError> {
    for path in parts(dir, name)? {
        let file = File::open(&path).map_err(|e| io_error(&path, e))?;
        for (n, record) in csv::Reader::from_reader(file).records().enumerate() {
            let bad = |reason: String| PackerError::Input { line: n + 2, reason: format!("{}: {reason}", path.display()) };
            let row = record.map_err(|e| bad(e.to_string()))?;
            let item = *index.get(row.get(0).unwrap_or_default()).ok_or_else(|| bad("names an item the catalogue does not have".into()))?;
            each(item as usize, &row).map_err(|reason| bad(reason.into()))?;
        }
    }
    Ok(())
}

fn number(row: &csv::StringRecord, column: usize) -> Result<f64, &'static str> {
    row.get(column).and_then(|v| v.trim().parse::<f64>().ok()).filter(|v| v.is_finite()).ok_or("a value is missing or not a finite number")
}

/// The files of table `name`: `name.csv`, or the parts in `name/`.
fn parts(dir: &Path, name: &str) -> Result<Vec<PathBuf>, PackerError> {
    let single = dir.join(format!("{name}.csv"));
    part_files(&if single.is_file() { single } else { dir.join(name) })
}

/// `path` itself if it is a file; if it is a directory (as Spark writes a
/// table), its `*.csv` parts in name order.
pub fn part_files(path: &Path) -> Result<Vec<PathBuf>, PackerError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| io_error(path, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    Ok(files)
}

fn io_error(path: &Path, e: std::io::Error) -> PackerError {
    PackerError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

impl From<csv::Error> for PackerError {
    fn from(e: csv::Error) -> Self {
        PackerError::Io(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packer::{learn, read_catalog_csv, Interaction, PackerConfig};

    fn catalog() -> CatalogInput {
        read_catalog_csv("id,title\na,A\nb,B\nc,C\n".as_bytes()).unwrap()
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let log: Vec<Interaction> =
            (0..30).map(|k| Interaction { user: k % 4, item: k * 7 % 3, timestamp_ms: i64::from(k) * 3_600_000 }).collect();
        let learned = learn(&log, 3, &PackerConfig::default()).unwrap();
        assert!(learned.neighbours.iter().any(|r| !r.is_empty()));
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = catalog().items.iter().map(|i| i.id.clone()).collect();
        write_learned(dir.path(), &learned, &ids).unwrap();
        assert_eq!(read_learned(dir.path(), &catalog()).unwrap(), learned);
    }

    #[test]
    fn spark_part_directories_are_read_in_name_order_and_unknown_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta.json"), r#"{"model": "llr", "trend_as_of_ms": 5, "users": 2}"#).unwrap();
        for (name, parts) in [
            ("items", ["item,count,trend\na,2,1.5\n", "item,count,trend\nb,1,0.25\n"]),
            ("neighbours", ["item,neighbour,weight\na,b,0.5\n", "item,neighbour,weight\na,c,0.75\nb,a,0.5\n"]),
            ("transitions", ["item,next,weight\n", "item,next,weight\na,b,1.0\n"]),
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            for (k, body) in parts.iter().enumerate() {
                std::fs::write(dir.path().join(name).join(format!("part-{k:05}.csv")), body).unwrap();
            }
            std::fs::write(dir.path().join(name).join("_SUCCESS"), "").unwrap();
        }
        let learned = read_learned(dir.path(), &catalog()).unwrap();
        assert_eq!(learned.counts, vec![2.0, 1.0, 0.0]);
        assert_eq!(learned.neighbours[0], vec![(2, 0.75), (1, 0.5)], "strongest first");
        assert_eq!(learned.transitions[0], vec![(1, 1.0)]);
        assert_eq!(learned.trend_as_of_ms, 5);
        std::fs::write(dir.path().join("neighbours").join("part-00002.csv"), "item,neighbour,weight\na,zz,0.1\n").unwrap();
        let err = read_learned(dir.path(), &catalog()).unwrap_err().to_string();
        assert!(err.contains("part-00002.csv") && err.contains("line 2"), "{err}");
    }
}
