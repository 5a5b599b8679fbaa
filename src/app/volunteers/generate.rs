//! Load for `chuangcheng bench`: a city's volunteers imported from one sheet (timed), a
//! service fair whose 2,000 volunteers check in at once by the rotating code (timed, through
//! the same use case the scan page calls), a past fair of 2,000 records confirmed in one
//! go (every total and star kept by that write), and a volunteer's ledger read among them
//! all.

use std::sync::Arc;
use std::time::Instant;

use crate::app::App;
use crate::domain::authz::{Actor, Grant, Role};
use crate::domain::calendar::beijing_text;
use crate::domain::org::OrgKind;
use crate::domain::volunteer::{AttendanceState, id_check_char};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::store::new_id;
use crate::store::volunteers::{self as db, AttendanceRow};

/// What the generator wrote and what it measured.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct VolunteerLoad {
    pub volunteers: usize,
    pub import_seconds: f64,
    /// Volunteers checking in at one fair, and how long all of them took.
    pub burst: usize,
    pub burst_seconds: f64,
    /// Confirming a fair of `burst` records (totals and stars kept by the write).
    pub confirm_seconds: f64,
    /// One volunteer's ledger among them all.
    pub ledger_ms: f64,
}

impl App {
    /// Imports `n` volunteers (timed) and runs a fair of `burst` check-ins over `workers`
    /// concurrent phones.
    pub async fn generate_volunteers(&self, n: usize, burst: usize, workers: usize) -> AppResult<VolunteerLoad> {
        let console = Actor::console();
        let dir = self.directory();
        let team = dir.units().filter(|u| u.kind == OrgKind::Team).min_by_key(|u| u.code.clone()).cloned();
        let place = dir.grids().map(|g| g.code.clone()).min().and_then(|g| dir.interior_point(&g));
        drop(dir);
        let (Some(team), Some(place)) = (team, place) else { return Err(AppError::Internal("no team or grid to hold a fair".into())) };
        let mut sheet = String::with_capacity(n * 64);
        sheet.push_str("姓名,手机,身份证号,所属队伍\n");
        for k in 0..n {
            // Unique: a birth day per thousand, a serial within it.
            let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default() + chrono::Duration::days((k / 1000) as i64);
            let body = format!("370125{}{:03}", born.format("%Y%m%d"), k % 1000);
            let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
            let id = format!("{body}{}", id_check_char(&digits).unwrap_or('0'));
            sheet.push_str(&format!("志愿者{k},13{:09},{id},{}\n", k, team.code));
        }
        let t = Instant::now();
        let volunteers = self.import_volunteers(&console, sheet.as_bytes(), Lang::ZhCn).await?;
        let import_seconds = t.elapsed().as_secs_f64();
        drop(sheet);
        // A fair under way, big enough for the burst.
        let now = self.now();
        let input = super::ActivityInput {
            title: "全市志愿服务大集".into(),
            kind: "service_fair".into(),
            services: vec!["理发".into(), "义诊".into()],
            team: team.id.clone(),
            place: "市民广场".into(),
            lat: place.lat,
            lon: place.lon,
            starts: beijing_text(now - 600_000),
            ends: beijing_text(now + 3 * 3_600_000),
            closes: None,
            capacity: burst.max(1) as i64,
            public: true,
            note: None,
        };
        let fair = self.checked_activity(&console, input, &team.id, None)?;
        let f = fair.clone();
        self.store().write(move |c| db::insert_activity(c, &f)).await?;
        let people = self.store().read(move |c| db::volunteers(c, &["/".to_string()], None, None, burst as u64)).await?;
        let actors: Vec<Actor> = people
            .iter()
            .filter_map(|v| v.person_id.clone().map(|p| (p, v.name.clone())))
            .map(|(p, name)| {
                Actor::person(p, name, vec![Grant { role: Role::Volunteer, org_unit_id: team.id.clone(), org_path: team.path.clone() }])
            })
            .collect();
        let code = self.checkin_code(&console, &fair.id, "http://localhost").await?.code;
        let queue = Arc::new(std::sync::Mutex::new(actors));
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..workers.max(1) {
            let (app, queue, code, id) = (self.clone(), queue.clone(), code.clone(), fair.id.clone());
            tasks.push(tokio::spawn(async move {
                let mut done = 0usize;
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(actor) = next else { break };
                    app.scan_checkin(&actor, &id, &code, Some(place), Some(false)).await?;
                    done += 1;
                }
                Ok::<_, AppError>(done)
            }));
        }
        let mut checked = 0;
        for task in tasks {
            checked += task.await.map_err(|e| AppError::Internal(e.to_string()))??;
        }
        let burst_seconds = t.elapsed().as_secs_f64();
        // Last week's fair: as many records waiting, confirmed at once.
        let mut past = fair.clone();
        (past.id, past.title, past.starts_at, past.ends_at) =
            (new_id(), "上周志愿服务大集".into(), now - 7 * 86_400_000, now - 7 * 86_400_000 + 3 * 3_600_000);
        let records: Vec<AttendanceRow> = people
            .iter()
            .map(|v| AttendanceRow {
                id: new_id(),
                activity_id: past.id.clone(),
                volunteer_id: v.id.clone(),
                checked_in_at: Some(past.starts_at),
                checked_out_at: Some(past.ends_at),
                by_hand: false,
                minutes: 180,
                state: AttendanceState::Pending,
                decided_by: None,
                decided_at: None,
                note: None,
            })
            .collect();
        let p = past.clone();
        self.store()
            .write(move |c| {
                db::insert_activity(c, &p)?;
                db::insert_attendances(c, &records)?;
                Ok::<_, AppError>(())
            })
            .await?;
        let t = Instant::now();
        self.confirm_attendance(&console, &past.id, &[], true).await?;
        let confirm_seconds = t.elapsed().as_secs_f64();
        let someone = people.last().map(|v| v.id.clone()).unwrap_or_default();
        let t = Instant::now();
        let ledger = self.ledger(&console, &someone).await?;
        let ledger_ms = t.elapsed().as_secs_f64() * 1_000.0;
        if ledger.volunteer.volunteer.minutes != 180 {
            return Err(AppError::Internal(format!("the total is {} minutes, not 180", ledger.volunteer.volunteer.minutes)));
        }
        Ok(VolunteerLoad { volunteers, import_seconds, burst: checked, burst_seconds, confirm_seconds, ledger_ms })
    }
}
