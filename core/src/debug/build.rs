//! Assembling a snapshot from the engine's parts (only in builds with the
//! `debug-api` feature).

use crate::catalog::{Catalog, RankerWeights};
use crate::feedback::FeedbackState;
use crate::inspect::{InspectReport, Weighted};
use crate::model::UserProfile;
use crate::rank::{EvidenceShares, Filters, Listed, Placement, RankOptions, Ranker, ScoreParts, Scratch};

use super::*;

/// Item and category interests listed.
const INTERESTS_LISTED: usize = 25;
/// History items (or categories) named behind each signal of an item.
const SOURCES_PER_SIGNAL: usize = 5;
/// What a snapshot is built from, borrowed from the engine.
pub(crate) struct DebugInputs<'a> {
    pub report: InspectReport,
    pub catalog: Option<&'a Catalog>,
    pub profile: &'a UserProfile,
    /// The weights in force (with a catalogue).
    pub weights: Option<RankerWeights>,
    pub filters: Filters,
    pub feedback: &'a FeedbackState,
    pub options: RankOptions,
    pub full_scan: bool,
    pub named: &'a [String],
    pub engagement: Engagement,
    pub raw_events: Option<RawEvents>,
    pub scratch: &'a mut Scratch,
}

/// Assembles the snapshot: ranks as `recommend` would, then explains the list
/// and the named items against that same ranking.
pub(crate) fn build(inputs: DebugInputs<'_>) -> DebugSnapshot {
    let now = inputs.options.now_ms;
    let mut snapshot = DebugSnapshot {
        format: SNAPSHOT_FORMAT.to_string(),
        version: SNAPSHOT_VERSION,
        taken_at_ms: now,
        inspect: inputs.report,
        weights: Vec::new(),
        interests: Interests { categories: Vec::new(), items: Vec::new(), items_in_profile: inputs.profile.items.len() as u64 },
        engagement: inputs.engagement,
        recommendations: Vec::new(),
        named_items: Vec::new(),
        raw_events: inputs.raw_events,
    };
    let (Some(catalog), Some(weights)) = (inputs.catalog, inputs.weights) else {
        snapshot.named_items = inputs.named.iter().map(|id| unscored(id, Verdict::Unknown)).collect();
        return snapshot;
    };
    snapshot.weights = weight_rows(catalog.weights(), &weights);
    snapshot.interests = interests(catalog, inputs.profile);
    let ranker = Ranker::new(catalog, inputs.profile, &weights, &inputs.filters).with_full_scan(inputs.full_scan);
    let (listed, signals) = ranker.rank_listed(&inputs.options, inputs.scratch);
    let scratch = &*inputs.scratch;
    let explain = |i: u32, parts: &ScoreParts| {
        let shares = ranker.evidence_shares(i);
        contributions(catalog, &ranker, &weights, inputs.profile, i, parts, shares)
    };
    snapshot.recommendations = listed
        .iter()
        .enumerate()
        .map(|(at, l)| ExplainedItem {
            position: at as u32 + 1,
            item_id: catalog.id(l.index).to_string(),
            title: catalog.title(l.index).to_string(),
            score: l.total,
            contributions: explain(l.index, &l.parts),
            reasons: ranker.recommendation(l.index, &l.parts, l.total).reasons.into_iter().map(|r| r.text).collect(),
            placement: placement(catalog, l),
        })
        .collect();
    let lowest = listed.iter().map(|l| l.total).min_by(f64::total_cmp);
    snapshot.named_items = inputs
        .named
        .iter()
        .map(|id| {
            let Some(i) = catalog.index_of(id) else {
                return unscored(id, Verdict::Unknown);
            };
            if catalog.is_sensitive(i) {
                return unscored(id, Verdict::Sensitive);
            }
            let parts = ranker.scored_parts(i, None, &signals, scratch, &inputs.options);
            let verdict = match listed.iter().position(|l| l.index == i) {
                Some(at) => Verdict::Listed { position: at as u32 + 1 },
                None => why_not(catalog, &ranker, inputs.profile, &inputs.filters, inputs.feedback, &inputs.options, scratch, i, lowest),
            };
            NamedItem { item_id: id.clone(), verdict, score: Some(parts.total(&weights)), contributions: explain(i, &parts) }
        })
        .collect();
    snapshot
}

fn unscored(id: &str, verdict: Verdict) -> NamedItem {
    NamedItem { item_id: id.to_string(), verdict, score: None, contributions: Vec::new() }
}

fn weight_rows(pack: &RankerWeights, in_force: &RankerWeights) -> Vec<WeightRow> {
    pack.named()
        .iter()
        .zip(in_force.named())
        .map(|(&(name, pack), (_, in_force))| WeightRow { name: name.to_string(), pack: f64::from(pack), in_force: f64::from(in_force) })
        .collect()
}

fn interests(catalog: &Catalog, profile: &UserProfile) -> Interests {
    let mut categories: Vec<Weighted> = profile
        .categories
        .iter()
        .filter(|(&c, _)| catalog.category(c).sensitive.is_none())
        .map(|(&c, &weight)| Weighted { name: catalog.category(c).name.clone(), weight })
        .collect();
    categories.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()).then_with(|| a.name.cmp(&b.name)));
    categories.truncate(INTERESTS_LISTED);
    let mut items: Vec<ItemWeight> = profile
        .items
        .iter()
        .filter(|(i, _)| !catalog.is_sensitive(*i))
        .map(|(i, interest)| ItemWeight { item_id: catalog.id(*i).to_string(), title: catalog.title(*i).to_string(), weight: interest.score })
        .collect();
    items.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()).then_with(|| a.item_id.cmp(&b.item_id)));
    items.truncate(INTERESTS_LISTED);
    Interests { categories, items, items_in_profile: profile.items.len() as u64 }
}

fn placement(catalog: &Catalog, listed: &Listed) -> PlacementSummary {
    match listed.placement {
        Placement::Relevance { relevance_rank } => {
            PlacementSummary { kind: "relevance".into(), relevance_rank: Some(relevance_rank as u32 + 1), category: None }
        }
        Placement::Exploration { category } => {
            PlacementSummary { kind: "exploration".into(), relevance_rank: None, category: Some(catalog.category(category).name.clone()) }
        }
    }
}

/// Every signal's weighted share of item `i`'s score, in the order the score
/// sums them, with the history items or categories behind each; `shares` are
/// [`Ranker::evidence_shares`] of `i`.
fn contributions(
    catalog: &Catalog,
    ranker: &Ranker<'_>,
    weights: &RankerWeights,
    profile: &UserProfile,
    i: u32,
    parts: &ScoreParts,
    (neighbour_shares, transition_shares): EvidenceShares,
) -> Vec<Contribution> {
    let items = |shares: &[(u32, f64)], weight: f64| -> Vec<Source> {
        strongest(shares.iter().filter(|&&(s, _)| !catalog.is_sensitive(s)).map(|&(s, share)| item_source(catalog, s, weight * share)))
    };
    parts
        .weighted(weights)
        .into_iter()
        .map(|(signal, value, weight)| {
            // + 0.0: a penalty of nothing reads 0, not -0.
            let contribution = weight * value + 0.0;
            let sources = match signal {
                "neighbour" => items(&neighbour_shares, weight),
                "transition" => items(&transition_shares, weight),
                "network" if contribution != 0.0 => {
                    ranker.network_source(i).filter(|&s| !catalog.is_sensitive(s)).map(|s| vec![item_source(catalog, s, contribution)]).unwrap_or_default()
                }
                "embedding" if contribution != 0.0 => ranker.closest_recent(i).map(|s| vec![item_source(catalog, s, contribution)]).unwrap_or_default(),
                "category" => {
                    let cats = catalog.item_categories(i);
                    strongest(cats.iter().filter(|&&c| catalog.category(c).sensitive.is_none()).map(|&c| {
                        let name = catalog.category(c).name.clone();
                        let share = weight * profile.categories.get(&c).copied().unwrap_or(0.0) / cats.len() as f64;
                        Source { id: name.clone(), title: name, contribution: share }
                    }))
                }
                _ => Vec::new(),
            };
            Contribution { signal: signal.to_string(), value, weight, contribution, sources }
        })
        .collect()
}

fn item_source(catalog: &Catalog, index: u32, contribution: f64) -> Source {
    Source { id: catalog.id(index).to_string(), title: catalog.title(index).to_string(), contribution }
}

/// The [`SOURCES_PER_SIGNAL`] sources with the largest absolute share, non-zero ones only.
fn strongest(sources: impl Iterator<Item = Source>) -> Vec<Source> {
    let mut all: Vec<Source> = sources.filter(|s| s.contribution != 0.0).collect();
    all.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()).then_with(|| a.id.cmp(&b.id)));
    all.truncate(SOURCES_PER_SIGNAL);
    all
}

/// The first reason, in the order eligibility is checked, that an unlisted item is not listed.
#[allow(clippy::too_many_arguments)]
fn why_not(
    catalog: &Catalog,
    ranker: &Ranker<'_>,
    profile: &UserProfile,
    filters: &Filters,
    feedback: &FeedbackState,
    options: &RankOptions,
    scratch: &Scratch,
    i: u32,
    lowest_listed_score: Option<f64>,
) -> Verdict {
    let now = options.now_ms;
    if !catalog.is_available(i, now) {
        return Verdict::Unavailable;
    }
    let said_no = |s: Option<&crate::feedback::Suppression>| s.is_some_and(|s| s.penalty(now).is_none());
    if filters.excluded.contains(&i) {
        return if said_no(feedback.not_interested.get(catalog.id(i))) { Verdict::NotInterested } else { Verdict::Capped };
    }
    let excluded_categories: Vec<u32> = catalog.item_categories(i).iter().copied().filter(|c| filters.excluded_categories.contains(c)).collect();
    if !excluded_categories.is_empty() {
        let dismissed = excluded_categories.iter().any(|&c| said_no(feedback.not_interested_categories.get(&catalog.category(c).name)));
        return if dismissed { Verdict::NotInterested } else { Verdict::Capped };
    }
    if options.personalised && profile.interest(i).is_some_and(|x| x.dismissed) {
        return Verdict::NotInterested;
    }
    if !ranker.is_eligible(i, options) {
        return Verdict::Seen;
    }
    if !scratch.is_candidate(i) {
        return Verdict::OutsideCandidates;
    }
    Verdict::BelowCut { lowest_listed_score }
}
