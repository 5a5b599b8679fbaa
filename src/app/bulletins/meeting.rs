//! 晒比评述: the meeting on an issued bulletin, one unit at a time — its score, rank and
//! change (晒), its worst photos beside what it sent back as fixed, its place among the others
//! (比), the panel's scores and comments entered live (评), and the unit's own account
//! written beforehand (述). The panel's average weighs into the composite ranking.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::{BulletinStatus, RankLine};
use crate::domain::org::OrgKind;
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::bulletins::{self as db, AccountRow, ScoreRow};
use crate::store::{attachments, inspections, people};

/// One unit on the meeting's running order.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingUnit {
    pub unit_id: String,
    pub name: String,
    pub table: String,
    pub line: RankLine,
    /// How many units its table ranks.
    pub of: usize,
}

/// A panelist's score as the meeting shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PanelScore {
    pub panelist: String,
    pub score: f64,
    pub comment: Option<String>,
    pub mine: bool,
}

/// The meeting view of one unit.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub bulletin_id: String,
    pub title: String,
    pub label: Option<String>,
    pub units: Vec<MeetingUnit>,
    pub index: usize,
    pub unit: MeetingUnit,
    /// Every unit of the same table: (name, rate), for the comparison chart.
    pub others: Vec<(String, Option<f64>)>,
    pub worst: Vec<String>,
    pub fixed: Vec<String>,
    pub account: Option<AccountRow>,
    pub scores: Vec<PanelScore>,
    pub average: Option<f64>,
    pub may_score: bool,
    pub may_account: bool,
}

/// A panelist's score.
#[derive(Debug, Clone, Deserialize)]
pub struct ScoreInput {
    pub unit: String,
    pub score: f64,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A unit's account.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountInput {
    pub unit: String,
    pub text: String,
}

impl App {
    /// The units a bulletin ranks, in the meeting's order: communities by rank, then
    /// departments, then sponsor units.
    fn meeting_units(&self, b: &super::BulletinView, area_path: &str) -> Vec<MeetingUnit> {
        let dir = self.directory();
        let mut out = Vec::new();
        for table in b.content.tables.iter().filter(|t| t.kind != "composite") {
            let kind = match table.kind.as_str() {
                "community" => OrgKind::Community,
                "department" => OrgKind::Department,
                _ => OrgKind::SponsorUnit,
            };
            for line in &table.rows {
                if let Some(u) = dir.units().find(|u| u.kind == kind && u.name == line.name && u.path.starts_with(area_path)) {
                    out.push(MeetingUnit {
                        unit_id: u.id.clone(),
                        name: u.name.clone(),
                        table: table.title.clone(),
                        line: line.clone(),
                        of: table.rows.len(),
                    });
                }
            }
        }
        out
    }

    /// The meeting on an issued bulletin at unit `unit` (an id; the first when absent).
    pub async fn meeting(&self, actor: &Actor, bulletin_id: &str, unit: Option<&str>) -> AppResult<MeetingView> {
        let b = self.bulletin(actor, bulletin_id).await?;
        if b.status == BulletinStatus::Draft {
            return Err(AppError::Invalid(Invalid::BulletinNotIssued));
        }
        let area = self.directory().unit_named(&b.area_code).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?;
        let units = self.meeting_units(&b, &area.path);
        let index = match unit {
            Some(u) => units.iter().position(|m| m.unit_id == u).ok_or(AppError::NotFound(Thing::OrgUnit))?,
            None => 0,
        };
        let current = units.get(index).cloned().ok_or(AppError::Invalid(Invalid::NoInspections))?;
        let others = b
            .content
            .tables
            .iter()
            .find(|t| t.title == current.table)
            .map(|t| t.rows.iter().map(|r| (r.name.clone(), r.rate)).collect())
            .unwrap_or_default();
        let (bid, uid, from, to) = (b.id.clone(), current.unit_id.clone(), b.from, b.to);
        let notice_items: Vec<String> = b
            .notices
            .iter()
            .filter(|n| n.notice.unit_id == current.unit_id)
            .flat_map(|n| n.problems.iter().map(|p| p.item.id.clone()))
            .collect();
        let (worst, fixed, account, scores) = self
            .store()
            .read(move |c| {
                let filter = inspections::PhotoFilter { unit_id: Some(&uid), ..Default::default() };
                let worst: Vec<String> = inspections::failed_photos(c, filter, from, to, 4)?.into_iter().map(|p| p.photo_id).collect();
                let mut fixed = Vec::new();
                for item in &notice_items {
                    fixed.extend(attachments::attached(c, AttachmentOwner::NoticeItem, item, false)?);
                }
                fixed.truncate(4);
                let account = db::accounts(c, &bid)?.into_iter().find(|a| a.unit_id == uid);
                let mut scores = Vec::new();
                for s in db::scores(c, &bid)?.into_iter().filter(|s| s.unit_id == uid) {
                    let name = people::person_name(c, &s.panelist_id)?.unwrap_or_default();
                    scores.push((s, name));
                }
                Ok::<_, AppError>((worst, fixed, account, scores))
            })
            .await?;
        let average = (!scores.is_empty()).then(|| scores.iter().map(|(s, _)| s.score).sum::<f64>() / scores.len() as f64);
        let unit_path = self.directory().unit(&current.unit_id).map(|u| u.path.clone()).unwrap_or_default();
        Ok(MeetingView {
            bulletin_id: b.id.clone(),
            title: b.title.clone(),
            label: b.label.clone(),
            index,
            others,
            worst,
            fixed,
            account,
            scores: scores
                .into_iter()
                .map(|(s, name)| PanelScore { mine: s.panelist_id == actor.person_id, panelist: name, score: s.score, comment: s.comment })
                .collect(),
            average: average.map(|a| (a * 10.0).round() / 10.0),
            may_score: actor.can(Permission::ReviewUnits, &area.path),
            may_account: actor.can(Permission::AnswerNotices, &unit_path),
            unit: current,
            units,
        })
    }

    /// A panelist scores a unit (0–100) with a comment; scoring again replaces one's score.
    pub async fn score_unit(&self, actor: &Actor, bulletin_id: &str, input: ScoreInput) -> AppResult<MeetingView> {
        if !(input.score.is_finite() && (0.0..=100.0).contains(&input.score)) {
            return Err(AppError::Invalid(Invalid::PanelScore));
        }
        let comment = input.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        if comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
            return Err(AppError::Invalid(Invalid::NoteTooLong));
        }
        let view = self.meeting(actor, bulletin_id, Some(&input.unit)).await?;
        if !view.may_score {
            return Err(AppError::Forbidden);
        }
        let b = self.bulletin(actor, bulletin_id).await?;
        let row = ScoreRow {
            bulletin_id: bulletin_id.to_string(),
            unit_id: input.unit.clone(),
            panelist_id: actor.person_id.clone(),
            score: (input.score * 10.0).round() / 10.0,
            comment,
            at: self.now(),
            period_to: b.to,
        };
        self.store().write(move |c| db::put_score(c, &row)).await?;
        self.meeting(actor, bulletin_id, Some(&input.unit)).await
    }

    /// A unit writes its account (述) before the meeting; writing again replaces it.
    pub async fn account_unit(&self, actor: &Actor, bulletin_id: &str, input: AccountInput) -> AppResult<MeetingView> {
        let text = input.text.trim().to_string();
        if text.is_empty() {
            return Err(AppError::MissingParameter("text".into()));
        }
        if text.chars().count() > crate::domain::bulletin::MAX_TEXT {
            return Err(AppError::Invalid(Invalid::TextTooLong));
        }
        let view = self.meeting(actor, bulletin_id, Some(&input.unit)).await?;
        if !view.may_account {
            return Err(AppError::Forbidden);
        }
        let row = AccountRow {
            bulletin_id: bulletin_id.to_string(),
            unit_id: input.unit.clone(),
            text,
            submitted_by: actor.person_id.clone(),
            submitted_at: self.now(),
        };
        self.store().write(move |c| db::put_account(c, &row)).await?;
        self.meeting(actor, bulletin_id, Some(&input.unit)).await
    }
}
