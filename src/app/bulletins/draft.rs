//! Drafting a bulletin from the data: the period's figures against the last bulletin's, the
//! ranking tables (communities, departments, sponsor units, the composite), 红榜 and 黑榜, the
//! typical problems with their photos, overdue cases by responsible unit, what the last
//! bulletin's problem lists came to, and this period's problem lists.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{BulletinView, period_keys};
use crate::app::App;
use crate::app::inspections::{RankBy, Ranking};
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::{
    self as rules, BulletinKind, BulletinStatus, Content, Figures, LastOutcome, ListedProblem, OverdueLine, PhotoChoice, ProblemList,
    RankLine, RankTable, TypicalProblem,
};
use crate::domain::calendar::beijing_date;
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult, Invalid};
use crate::store::bulletins::{self as db, BulletinRow};
use crate::store::inspections::PhotoFilter;
use crate::store::{cases, inspections, new_id};

/// Typical problems a draft shows, and photos offered for each.
const TYPICAL: usize = 5;
const CANDIDATES: u64 = 6;
/// 红榜 / 黑榜 length.
const LISTED: usize = 3;

/// What to draft: an area (its code; the writer's own when absent), a kind and a period. A
/// week or month is the one holding `from` (the last whole one before today when absent); a
/// custom period needs both dates.
#[derive(Debug, Clone, Deserialize)]
pub struct NewBulletin {
    #[serde(default)]
    pub area: Option<String>,
    pub kind: BulletinKind,
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

fn lines(r: &Ranking, keep: impl Fn(&str) -> bool) -> Vec<RankLine> {
    r.rows
        .iter()
        .filter(|row| keep(&row.key))
        .enumerate()
        .map(|(i, row)| RankLine {
            rank: i + 1,
            name: row.name.clone(),
            rate: row.rate,
            change: row.change,
            inspections: row.sums.inspections,
            problems: row.sums.problems,
            lost: (row.sums.lost * 100.0).round() / 100.0,
            rectified_rate: row.rectified_rate,
        })
        .collect()
}

impl App {
    /// The period a draft covers.
    fn bulletin_period(&self, n: &NewBulletin, now: i64) -> AppResult<(NaiveDate, NaiveDate)> {
        let today = beijing_date(now);
        let (from, to) = match n.kind {
            BulletinKind::Custom => match (n.from, n.to) {
                (Some(f), Some(t)) => (f, t),
                _ => return Err(AppError::Invalid(Invalid::Period)),
            },
            kind => {
                let day = n.from.unwrap_or_else(|| {
                    let (start, _) = rules::period_of(kind, today);
                    start - chrono::Duration::days(1)
                });
                rules::period_of(kind, day)
            }
        };
        if from > to || (to - from).num_days() > 366 {
            return Err(AppError::Invalid(Invalid::Period));
        }
        Ok((from, to))
    }

    /// Drafts a bulletin of an area for a period from the inspections and cases.
    pub async fn draft_bulletin(&self, actor: &Actor, n: NewBulletin) -> AppResult<BulletinView> {
        self.draft_bulletin_at(actor, n, self.now()).await
    }

    /// The same at a given moment (the demo drafts a season of bulletins).
    pub(crate) async fn draft_bulletin_at(&self, actor: &Actor, n: NewBulletin, now: i64) -> AppResult<BulletinView> {
        let (row, area) = self.compose_bulletin(actor, n, now).await?;
        let stored = row.clone();
        self.store().write(move |c| db::insert_bulletin(c, &stored)).await?;
        self.bulletin_view(actor, row, &area).await
    }

    /// A draft as it would be stored, not stored (the command line writes it to a file).
    pub async fn preview_bulletin(&self, actor: &Actor, n: NewBulletin) -> AppResult<BulletinView> {
        let (row, area) = self.compose_bulletin(actor, n, self.now()).await?;
        self.bulletin_view(actor, row, &area).await
    }

    async fn compose_bulletin(&self, actor: &Actor, n: NewBulletin, now: i64) -> AppResult<(BulletinRow, crate::domain::org::OrgUnit)> {
        if !actor.can_somewhere(Permission::WriteBulletins) {
            return Err(AppError::Forbidden);
        }
        let (from, to) = self.bulletin_period(&n, now)?;
        let code = match n.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(c) => Some(c.to_string()),
            None => actor.scopes(Permission::WriteBulletins).first().and_then(|s| {
                let id = s.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                let dir = self.directory();
                let u = dir.unit(id)?;
                Some(crate::app::inspections::area_of(&dir, u).unwrap_or(u).code.clone())
            }),
        };
        let area = self.area(actor, code.as_deref())?;
        if !actor.can(Permission::WriteBulletins, &area.path) {
            return Err(AppError::NotFound(crate::error::Thing::OrgUnit));
        }
        let content = self.draft_content(actor, &area, n.kind, from, to, now).await?;
        let (fd, td) = period_keys(from, to);
        let row = BulletinRow {
            id: new_id(),
            area_id: area.id.clone(),
            kind: n.kind,
            period_from: fd,
            period_to: td,
            status: BulletinStatus::Draft,
            year: None,
            number: None,
            version: 1,
            supersedes: None,
            title: content.title.clone(),
            content,
            revision: 0,
            created_by: actor.person_id.clone(),
            created_at: now,
            updated_at: now,
            issued_by: None,
            issued_at: None,
        };
        Ok((row, area))
    }

    /// Everything a draft says, from the data.
    pub(crate) async fn draft_content(
        &self,
        actor: &Actor,
        area: &crate::domain::org::OrgUnit,
        kind: BulletinKind,
        from: NaiveDate,
        to: NaiveDate,
        now: i64,
    ) -> AppResult<Content> {
        let code = Some(area.code.as_str());
        let communities = self.ranking(actor, code, from, to, RankBy::Community).await?;
        if communities.total.inspections == 0 {
            return Err(AppError::Invalid(Invalid::NoInspections));
        }
        let units = self.ranking(actor, code, from, to, RankBy::Unit).await?;
        let composite = self.composite_ranking(actor, code, from, to, LISTED).await?;
        let shortfall = self.shortfall(actor, code, from, to, TYPICAL).await?;
        let dir = self.directory();
        let kind_of = |key: &str| key.strip_prefix("u:").and_then(|id| dir.unit(id)).map(|u| u.kind);
        let mut tables =
            vec![RankTable { kind: "community".into(), title: "社区督查得分排名".into(), rows: lines(&communities, |_| true) }];
        for (k, kind, title) in
            [("department", OrgKind::Department, "职能部门督查得分排名"), ("sponsor_unit", OrgKind::SponsorUnit, "帮包单位督查得分排名")]
        {
            let rows = lines(&units, |key| kind_of(key) == Some(kind));
            if !rows.is_empty() {
                tables.push(RankTable { kind: k.into(), title: title.into(), rows });
            }
        }
        tables.push(RankTable {
            kind: "composite".into(),
            title: "社区综合排名".into(),
            rows: composite
                .rows
                .iter()
                .filter(|r| r.composite.is_some())
                .enumerate()
                .map(|(i, r)| RankLine {
                    rank: i + 1,
                    name: r.name.clone(),
                    rate: r.composite,
                    change: None,
                    inspections: r.inspections,
                    problems: 0,
                    lost: 0.0,
                    rectified_rate: r.on_time_rate,
                })
                .collect(),
        });
        let t = communities.total;
        let (fd, td) = period_keys(from, to);
        let (area_id, path) = (area.id.clone(), area.path.clone());
        let codes: Vec<String> = shortfall.iter().map(|s| s.code.clone()).collect();
        let (photos, overdue, last, linked) = self
            .store()
            .read(move |c| {
                let mut photos = Vec::new();
                for code in &codes {
                    photos.push(inspections::failed_photos(
                        c,
                        PhotoFilter { code: Some(code), within: Some(&path), ..Default::default() },
                        fd,
                        td,
                        CANDIDATES,
                    )?);
                }
                let overdue = cases::overdue_cases(c, &path, now, 2_000)?;
                let last = match db::last_issued(c, &area_id, fd)? {
                    Some(b) => {
                        let counts = db::outcomes(c, &b.id)?;
                        Some((b, counts))
                    }
                    None => None,
                };
                let linked = inspections::linked_open_cases(c, fd, td, &path)?;
                Ok::<_, AppError>((photos, overdue, last, linked))
            })
            .await?;
        let unit_name = |id: &str| dir.unit(id).map(|u| u.name.clone()).unwrap_or_default();
        let problems: Vec<TypicalProblem> = shortfall
            .iter()
            .zip(photos)
            .map(|(s, found)| {
                let candidates: Vec<PhotoChoice> = found
                    .iter()
                    .map(|p| PhotoChoice { photo_id: p.photo_id.clone(), point: p.point.clone(), unit: unit_name(&p.unit_id) })
                    .collect();
                let first = candidates.first().cloned();
                TypicalProblem {
                    code: s.code.clone(),
                    text: s.text.clone(),
                    point_type: s.point_type.clone(),
                    lost: s.sums.lost,
                    failed: s.sums.failed,
                    places: s.points.iter().map(|w| w.name.clone()).collect(),
                    units: s.communities.iter().map(|w| w.name.clone()).collect(),
                    photo_id: first.as_ref().map(|p| p.photo_id.clone()),
                    caption: first.map(|p| format!("{}({}){}", p.point, p.unit, s.text)).unwrap_or_default(),
                    candidates,
                    shown: true,
                }
            })
            .collect();
        let mut by_unit: BTreeMap<String, OverdueLine> = BTreeMap::new();
        for (unit, number) in overdue {
            let name = unit.as_deref().map(unit_name).filter(|n| !n.is_empty()).unwrap_or_else(|| "未派遣".into());
            let line = by_unit.entry(name.clone()).or_insert(OverdueLine { unit: name, count: 0, numbers: Vec::new() });
            line.count += 1;
            if line.numbers.len() < 5 {
                line.numbers.push(number);
            }
        }
        let mut overdue: Vec<OverdueLine> = by_unit.into_values().collect();
        overdue.sort_by(|a, b| b.count.cmp(&a.count).then(a.unit.cmp(&b.unit)));
        let (previous, last_outcome) = match last {
            Some((b, (items, fixed, not_fixed))) => (
                Some(b.content.figures),
                Some(LastOutcome {
                    bulletin_id: b.id.clone(),
                    label: b.year.zip(b.number).map(|(y, n)| rules::number_label(y as i32, n)).unwrap_or_default(),
                    items,
                    fixed,
                    not_fixed,
                    unanswered: items - fixed - not_fixed,
                }),
            ),
            None => (None, None),
        };
        let manual = self.manual(&Actor::console(), None).await?;
        let item_text = |code: &str| manual.items.iter().find(|i| i.code == code).map(|i| i.text.clone()).unwrap_or_default();
        let mut lists: BTreeMap<String, ProblemList> = BTreeMap::new();
        for l in linked {
            let list = lists.entry(l.unit_id.clone()).or_insert_with(|| ProblemList {
                unit_id: l.unit_id.clone(),
                unit: unit_name(&l.unit_id),
                problems: Vec::new(),
            });
            list.problems.push(ListedProblem {
                text: item_text(&l.item_code),
                case_id: l.case_id,
                case_number: l.case_number,
                item_code: l.item_code,
                point: l.point,
            });
        }
        let mut lists: Vec<ProblemList> = lists.into_values().collect();
        lists.sort_by(|a, b| a.unit.cmp(&b.unit));
        let figures = Figures {
            units: units.rows.len() as i64,
            inspections: t.inspections,
            problems: t.problems,
            failed: t.failed,
            cases: communities.cases,
            rate: communities.rate,
        };
        let deadline_days = 5;
        Ok(Content {
            title: rules::default_title(&area.name, kind, from, to),
            issuer: format!("{}创城办", area.name),
            intro: rules::draft_intro(&area.name, from, to, &figures, previous.as_ref()),
            figures,
            previous,
            tables,
            red: composite.red.iter().map(|r| r.name.clone()).collect(),
            black: composite.black.iter().map(|r| r.name.clone()).collect(),
            problems,
            overdue,
            last_outcome,
            lists,
            quotes: Vec::new(),
            next_steps: rules::draft_next_steps(deadline_days),
            deadline_days,
        })
    }
}
