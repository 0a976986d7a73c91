//! Loading a converted dataset and building the evaluation splits.

use std::path::Path;

use mizan::catalog::{Category, Item};
use mizan::packer::{read_catalog_csv, read_interactions_csv};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One interaction: (timestamp ms, item index).
pub type Step = (i64, u32);

/// A dataset: catalogue and every user's chronological history.
pub struct Dataset {
    /// Catalogue categories.
    pub categories: Vec<Category>,
    /// Catalogue items.
    pub items: Vec<Item>,
    /// Per user, interactions sorted by time, ties broken by item index.
    pub histories: Vec<Vec<Step>>,
}

/// Loads `catalog.csv` and `interactions.csv` from `dir` (as `fetch.py` writes them).
/// Timestamps are shifted by whole days so that the newest falls on the day
/// before `now_ms`'s (UTC): MovieLens predates the engine's plausibility bound.
/// Order, gaps and times of day are kept, and runs on the same day see the same
/// timestamps (and can share packs).
pub fn load(dir: &Path, now_ms: i64) -> Result<Dataset, Box<dyn std::error::Error>> {
    let catalog = read_catalog_csv(crate::files::open(dir.join("catalog.csv"))?)?;
    let log = read_interactions_csv(crate::files::open(dir.join("interactions.csv"))?, &catalog)?;
    let users = log.interactions.iter().map(|i| i.user as usize + 1).max().unwrap_or(0);
    let newest = log.interactions.iter().map(|i| i.timestamp_ms).max().unwrap_or(0);
    const DAY_MS: i64 = 86_400_000;
    let shift = (now_ms.div_euclid(DAY_MS) - 1 - newest.div_euclid(DAY_MS)) * DAY_MS;
    let mut histories: Vec<Vec<Step>> = vec![Vec::new(); users];
    for i in &log.interactions {
        histories[i.user as usize].push((i.timestamp_ms + shift, i.item));
    }
    histories.iter_mut().for_each(|h| h.sort_unstable());
    Ok(Dataset { categories: catalog.categories, items: catalog.items, histories })
}

/// One evaluated user: what is replayed, and what should come next.
#[derive(Clone)]
pub struct Case {
    /// The history replayed before recommending.
    pub input: Vec<Step>,
    /// The held-out item.
    pub target: u32,
    /// When the held-out interaction happened (the moment of recommendation).
    pub target_ms: i64,
    /// Time since the previous interaction.
    pub gap_ms: i64,
}

/// Which held-out item a leave-last-out split evaluates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Holdout {
    /// The second-to-last item (for tuning).
    Validation,
    /// The last item (for the report).
    Test,
}

/// A split: what the pack may learn from, and the cases to evaluate.
pub struct Split {
    /// Short name used in the report.
    pub name: String,
    /// Histories the pack is built from.
    pub pack_histories: Vec<Vec<Step>>,
    /// Evaluated users.
    pub cases: Vec<Case>,
}

fn case(h: &[Step], holdout: Holdout) -> Case {
    let cut = h.len() - if holdout == Holdout::Test { 1 } else { 2 };
    let (target_ms, target) = h[cut];
    Case { input: h[..cut].to_vec(), target, target_ms, gap_ms: target_ms - h[cut - 1].0 }
}

/// How the users are divided for strong generalisation: shuffled with the seed
/// and cut into `FOLDS` equal parts; one part is evaluated, the others build the pack.
pub const FOLDS: usize = 5;

/// The part evaluated by the main 80/20 split (the other parts serve cross-validation).
pub const MAIN_FOLD: usize = FOLDS - 1;

/// Users with at least three interactions, shuffled with `seed`, split into
/// (pack users, evaluated users): the evaluated ones are part `fold` of `FOLDS`.
fn user_split(data: &Dataset, seed: u64, fold: usize) -> (Vec<usize>, Vec<usize>) {
    let mut users: Vec<usize> = (0..data.histories.len()).filter(|&u| data.histories[u].len() >= 3).collect();
    users.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let bound = |f: usize| (users.len() as f64 * f as f64 / FOLDS as f64).round() as usize;
    let eval: Vec<usize> = users.drain(bound(fold)..bound(fold + 1)).collect();
    (users, eval)
}

/// Strong generalisation: the pack never sees evaluated users, who are part
/// `fold` of the shuffled users.
pub fn strong(data: &Dataset, seed: u64, holdout: Holdout, fold: usize) -> Split {
    let (train, eval) = user_split(data, seed, fold);
    let kind = if holdout == Holdout::Test { "test" } else { "validation" };
    let name = if fold == MAIN_FOLD { format!("strong ({kind})") } else { format!("strong ({kind}, fold {}/{FOLDS})", fold + 1) };
    Split {
        name,
        pack_histories: train.iter().map(|&u| data.histories[u].clone()).collect(),
        cases: eval.iter().map(|&u| case(&data.histories[u], holdout)).collect(),
    }
}

/// Weak generalisation: the pack also saw every evaluated user's training prefix.
pub fn weak(data: &Dataset, seed: u64) -> Split {
    let (train, eval) = user_split(data, seed, MAIN_FOLD);
    let mut pack_histories: Vec<Vec<Step>> = train.iter().map(|&u| data.histories[u].clone()).collect();
    pack_histories.extend(eval.iter().map(|&u| {
        let h = &data.histories[u];
        h[..h.len() - 2].to_vec()
    }));
    Split { name: "weak (test)".into(), pack_histories, cases: eval.iter().map(|&u| case(&data.histories[u], Holdout::Test)).collect() }
}

/// Global temporal split: the pack learns from everything before the time by which
/// 90% of interactions happened (85% for validation); each user active on both
/// sides is evaluated on their first interaction after it.
pub fn temporal(data: &Dataset, holdout: Holdout) -> Split {
    let share = if holdout == Holdout::Test { 0.9 } else { 0.85 };
    let mut times: Vec<i64> = data.histories.iter().flatten().map(|s| s.0).collect();
    times.sort_unstable();
    let cutoff = times[(times.len() as f64 * share) as usize];
    let mut pack_histories = Vec::new();
    let mut cases = Vec::new();
    for h in &data.histories {
        let before: Vec<Step> = h.iter().copied().filter(|s| s.0 < cutoff).collect();
        if let (false, Some(&(target_ms, target))) = (before.is_empty(), h.iter().find(|s| s.0 >= cutoff)) {
            cases.push(Case { gap_ms: target_ms - before[before.len() - 1].0, input: before.clone(), target, target_ms });
        }
        if !before.is_empty() {
            pack_histories.push(before);
        }
    }
    let name = if holdout == Holdout::Test { "temporal (test, 90% cut-off)" } else { "temporal (validation, 85% cut-off)" };
    Split { name: name.into(), pack_histories, cases }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    /// Users 0..10 with 3 + u interactions a minute apart, user 10 with two.
    fn dataset() -> Dataset {
        let mut histories: Vec<Vec<Step>> = (0..10u32).map(|u| (0..3 + u).map(|k| (i64::from(u * 100 + k) * 60_000, (u + k) % 20)).collect()).collect();
        histories.push(vec![(0, 1), (60_000, 2)]);
        Dataset { categories: vec![], items: vec![], histories }
    }

    fn owner(data: &Dataset, history: &[Step]) -> usize {
        data.histories.iter().position(|h| h.starts_with(history)).expect("a user's history")
    }

    #[test]
    fn ties_are_broken_by_item_index_and_the_newest_moment_falls_on_the_day_before_now_at_its_time_of_day() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("catalog.csv"), "id,title,categories,tags,sensitive,available_from_ms,available_until_ms\na,A,,,,,\nb,B,,,,,\nc,C,,,,,\n").unwrap();
        std::fs::write(dir.path().join("interactions.csv"), "user,item,timestamp_ms\nu,c,5000\nu,a,5000\nu,b,1000\n").unwrap();
        let data = load(dir.path(), NOW).unwrap();
        let day = 86_400_000;
        let yesterday = (NOW / day - 1) * day;
        assert_eq!(data.histories, vec![vec![(yesterday + 1000, 1), (yesterday + 5000, 0), (yesterday + 5000, 2)]]);
    }

    #[test]
    fn strong_folds_keep_pack_and_evaluated_users_apart_and_evaluate_everyone_once() {
        let data = dataset();
        let mut evaluated = Vec::new();
        for fold in 0..FOLDS {
            let split = strong(&data, 7, Holdout::Test, fold);
            let pack: Vec<usize> = split.pack_histories.iter().map(|h| owner(&data, h)).collect();
            for case in &split.cases {
                let user = owner(&data, &case.input);
                assert!(!pack.contains(&user), "fold {fold}: user {user} is in the pack and evaluated");
                evaluated.push(user);
            }
            assert_eq!(pack.len() + split.cases.len(), 10, "users with fewer than three interactions are left out");
        }
        evaluated.sort_unstable();
        assert_eq!(evaluated, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn test_holds_out_the_last_item_and_validation_the_one_before() {
        let data = dataset();
        for (holdout, back) in [(Holdout::Test, 1), (Holdout::Validation, 2)] {
            for case in strong(&data, 7, holdout, MAIN_FOLD).cases {
                let h = &data.histories[owner(&data, &case.input)];
                let cut = h.len() - back;
                assert_eq!((case.input.as_slice(), case.target, case.target_ms), (&h[..cut], h[cut].1, h[cut].0));
                assert_eq!(case.gap_ms, 60_000);
            }
        }
    }

    #[test]
    fn the_weak_pack_adds_evaluated_users_without_their_last_two_items() {
        let data = dataset();
        let split = weak(&data, 7);
        let (_, evaluated) = user_split(&data, 7, MAIN_FOLD);
        assert_eq!(split.pack_histories.len(), 10);
        for u in evaluated {
            let h = &data.histories[u];
            assert!(split.pack_histories.contains(&h[..h.len() - 2].to_vec()), "user {u}'s prefix");
            assert!(!split.pack_histories.contains(h));
        }
    }

    #[test]
    fn the_temporal_pack_stops_at_the_cut_off_and_users_are_asked_about_their_next_event() {
        let data = dataset();
        let mut times: Vec<i64> = data.histories.iter().flatten().map(|s| s.0).collect();
        times.sort_unstable();
        let cutoff = times[(times.len() as f64 * 0.9) as usize];
        let split = temporal(&data, Holdout::Test);
        assert!(split.pack_histories.iter().flatten().all(|s| s.0 < cutoff));
        assert!(!split.cases.is_empty());
        for case in &split.cases {
            let h = &data.histories[owner(&data, &case.input)];
            let next = h.iter().find(|s| s.0 >= cutoff).unwrap();
            assert_eq!((case.target, case.target_ms), (next.1, next.0));
            assert_eq!(case.input, h.iter().copied().filter(|s| s.0 < cutoff).collect::<Vec<_>>());
        }
    }
}
