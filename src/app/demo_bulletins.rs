//! The demo's 督查通报: a weekly bulletin for each whole week of the inspection season, each
//! drafted and issued by the inspector on the Monday after its week, with its rectification
//! notices; most units answer within days (fixed where their case was handled, not yet
//! where it was not), a few let the deadline pass, and the scanner escalates those.
//! Seeded: the same season on every run (relative to today).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::App;
use super::bulletins::{AnswerInput, NewBulletin};
use crate::domain::bulletin::{BulletinKind, Outcome};
use crate::domain::calendar::{beijing_date, beijing_day_start};
use crate::domain::case::Status;
use crate::error::{AppError, AppResult, Invalid};
use crate::store::cases as case_db;

const SEED: u64 = 20_261_203;
const HOUR: i64 = 3_600_000;

/// How the demo's bulletins went.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BulletinDemo {
    pub bulletins: usize,
    pub notices: usize,
    pub answered: usize,
    pub escalated: usize,
}

impl App {
    /// Weekly bulletins for the `weeks` whole weeks before this one.
    pub async fn seed_demo_bulletins(&self, weeks: usize) -> AppResult<BulletinDemo> {
        let mut out = BulletinDemo::default();
        let mut rng = StdRng::seed_from_u64(SEED);
        let inspector = self.demo_actor("inspector").await?;
        let today = beijing_date(self.now());
        let monday = today - chrono::Duration::days(chrono::Datelike::weekday(&today).num_days_from_monday() as i64);
        for w in (1..=weeks).rev() {
            let week_start = monday - chrono::Duration::weeks(w as i64);
            // Issued on the Monday after its week, at 10:00.
            let at = beijing_day_start(week_start + chrono::Duration::weeks(1)) + 10 * HOUR;
            if at > self.now() {
                continue;
            }
            let n = NewBulletin { area: None, kind: BulletinKind::Week, from: Some(week_start), to: None };
            let draft = match self.draft_bulletin_at(&inspector, n, at).await {
                Ok(d) => d,
                Err(AppError::Invalid(Invalid::NoInspections)) => continue,
                Err(e) => return Err(e),
            };
            let issued = self.issue_bulletin_at(&inspector, &draft.id, draft.revision, at + HOUR).await?;
            out.bulletins += 1;
            out.notices += issued.notices.len();
            for notice in &issued.notices {
                // One unit in six lets its deadline pass.
                if rng.random_bool(1.0 / 6.0) {
                    continue;
                }
                let Some(answerer) = self.demo_handler(&notice.notice.unit_id).await? else { continue };
                let mut when = at + rng.random_range(20..70) * HOUR;
                for p in &notice.problems {
                    if when > self.now() {
                        break;
                    }
                    let case_id = p.item.case_id.clone().unwrap_or_default();
                    let status = self.store().read(move |c| case_db::case_by_id(c, &case_id)).await?.map(|r| r.state.status);
                    let done = matches!(status, Some(Status::Handled | Status::Closed));
                    let input = if done {
                        AnswerInput {
                            outcome: Outcome::Fixed,
                            note: Some("已按问题清单整改到位,详见整改后照片".into()),
                            photos: Vec::new(),
                        }
                    } else {
                        AnswerInput {
                            outcome: Outcome::NotFixed,
                            note: Some("已制定整改方案,需协调物业及相关部门,预计下周完成".into()),
                            photos: Vec::new(),
                        }
                    };
                    match self.answer_notice_at(&answerer, &notice.notice.id, &p.item.id, input, when).await {
                        Ok(_) => out.answered += 1,
                        Err(AppError::Invalid(_) | AppError::Forbidden | AppError::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                    when += rng.random_range(1..6) * HOUR;
                }
            }
        }
        out.escalated = self.scan_notices().await?;
        Ok(out)
    }
}
