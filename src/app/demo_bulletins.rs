//! The demo's 督查通报: a weekly bulletin for each whole week of the inspection season, each
//! drafted and issued by the inspector on the Monday after its week, with its rectification
//! notices; most units answer within days (fixed where their case was handled, not yet
//! where it was not), a few let the deadline pass, and the scanner escalates those.
//! Seeded: the same season on every run (relative to today).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::App;
use super::bulletins::{AnswerInput, NewBulletin};
use super::info_reports::{ReportInput, ReviewInput};
use crate::domain::bulletin::{BulletinKind, Outcome};
use crate::domain::calendar::{beijing_date, beijing_day_start};
use crate::domain::case::Status;
use crate::domain::info_report::{Decision, ReportKind};
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult, Invalid};
use crate::store::cases as case_db;

const SEED: u64 = 20_261_203;
const HOUR: i64 = 3_600_000;

/// The demo's info reports: (unit kind, title, text, kind).
const REPORTS: [(&str, &str, &str, ReportKind); 12] = [
    (
        "community",
        "开元社区推行“楼长制”清理楼道堆物",
        "社区在 36 栋居民楼各设楼长一名,每日巡查楼道,发现堆物当日劝导清理。推行一个月,楼道堆物由 120 处降至 8 处。",
        ReportKind::Practice,
    ),
    (
        "community",
        "纬二路社区开展背街小巷环境集中整治",
        "组织网格员、志愿者 40 余人,清理卫生死角 23 处,规范非机动车停放点 6 处。",
        ReportKind::News,
    ),
    ("community", "翠岭社区老旧小区宣传栏更新", "更换破损宣传栏 5 块,张贴创城公益广告 30 余幅,做到内容每月更新。", ReportKind::News),
    (
        "community",
        "富阳社区学校周边流动摊贩反复出现",
        "富阳小学周边早晚高峰仍有流动摊贩,建议城管执法中队在上下学时段加强巡查。",
        ReportKind::Suggestion,
    ),
    (
        "community",
        "银河社区“红色物业”联席会",
        "社区党委与物业公司召开联席会,明确楼道清理、绿化养护责任分工,建立问题清单销号制度。",
        ReportKind::Practice,
    ),
    ("community", "澄波湖社区志愿服务大集", "本月志愿服务大集提供义剪、缝补、义诊、法律咨询等服务,惠及居民 300 余人次。", ReportKind::News),
    (
        "community",
        "龙海社区农贸市场周边占道经营",
        "龙海农贸市场东侧早市占道经营较多,建议市场监管所与社区共同划定临时疏导点。",
        ReportKind::Suggestion,
    ),
    (
        "community",
        "迎宾社区文明劝导岗常态化",
        "在迎宾路两处路口设文明劝导岗,每天早晚高峰各 1 小时,劝导闯红灯、乱穿马路行为。",
        ReportKind::Practice,
    ),
    ("community", "汇鑫社区入户宣传创城知识", "网格员入户发放《市民文明手册》1,200 份,开展创城知晓率问卷调查。", ReportKind::News),
    ("department", "城管执法中队开展夜间占道经营整治", "连续一周夜间巡查,规范占道经营 46 处,清理乱堆乱放 18 处。", ReportKind::News),
    ("department", "园林绿化所补植公园绿地", "对澄波湖公园、文化广场裸露土地补植草皮 1,800 平方米。", ReportKind::News),
    ("team", "“向阳花开”志愿服务队调解邻里矛盾", "志愿者上门调解楼上楼下漏水纠纷 3 起,均达成和解。", ReportKind::Practice),
];

/// The campaign's ten key tasks: (name, lead unit kind and index, drive categories,
/// milestones as (days from the start, title), progress so far by milestone).
type DemoTask = (&'static str, &'static str, &'static [&'static str], &'static [(i64, &'static str)], &'static [i64]);
const TASKS: [DemoTask; 10] = [
    (
        "单元网格定格认责",
        "subdistrict",
        &[],
        &[(14, "150 个网格责任人全部到位"), (45, "网格员每日巡查全覆盖"), (90, "网格考核兑现")],
        &[100, 90, 30],
    ),
    (
        "“门前五包”责任制落实",
        "department",
        &["0401", "0402"],
        &[(20, "沿街商户责任书签订"), (60, "红黑榜每月公示"), (100, "长效机制验收")],
        &[100, 60, 0],
    ),
    ("不文明行为教育引导", "team", &["0601", "0602", "0603"], &[(30, "劝导岗设立"), (75, "劝导志愿者轮值常态化")], &[100, 40]),
    (
        "背街小巷环境整治",
        "department",
        &["0101", "0102", "0106"],
        &[(25, "卫生死角摸底"), (50, "集中清理"), (80, "验收销号")],
        &[100, 70, 10],
    ),
    (
        "老旧小区楼道堆积专项整治",
        "community",
        &["0103", "0105"],
        &[(10, "摸底排查"), (40, "党员带头集中清理"), (70, "物业长效保洁")],
        &[100, 55, 0],
    ),
    ("“红色物业”建设", "community", &[], &[(30, "党建联建协议签订"), (90, "物业服务评议")], &[80, 0]),
    ("志愿服务大集常态化", "team", &[], &[(30, "每月一次服务大集"), (90, "服务时长记录规范")], &[100, 35]),
    ("创城宣传氛围营造", "community", &[], &[(20, "宣传栏、公益广告更新"), (60, "知晓率入户宣传")], &[70, 20]),
    ("新时代文明实践站提升", "community", &[], &[(45, "站点功能完善"), (100, "文艺团体进小区演出")], &[60, 10]),
    ("督查通报和晒比评述", "subdistrict", &[], &[(7, "督查通报每周一期"), (30, "晒比评述推进会每月一次")], &[100, 100]),
];

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

    /// The ten key tasks, started 40 days ago, with progress reported by their lead units.
    pub async fn seed_demo_key_tasks(&self) -> AppResult<usize> {
        use super::key_tasks::{MilestoneInput, ProgressInput, TaskInput};
        use crate::domain::key_task::TaskKind;
        let leader = self.demo_actor("leader").await?;
        let dispatcher = self.demo_actor("dispatcher").await?;
        let dir = self.directory();
        let first = |kind: OrgKind, n: usize| {
            let mut v: Vec<_> = dir.units().filter(|u| u.kind == kind).cloned().collect();
            v.sort_by(|a, b| a.code.cmp(&b.code));
            v.get(n % v.len().max(1)).cloned()
        };
        let start = beijing_date(self.now()) - chrono::Duration::days(40);
        let mut made = 0;
        for (i, (name, lead_kind, categories, milestones, progress)) in TASKS.iter().enumerate() {
            let lead = match *lead_kind {
                "subdistrict" => first(OrgKind::Subdistrict, 0),
                "department" => first(OrgKind::Department, i),
                "team" => first(OrgKind::Subdistrict, 0),
                _ => first(OrgKind::Community, i),
            };
            let Some(lead) = lead else { continue };
            let ends = start + chrono::Duration::days(milestones.iter().map(|m| m.0).max().unwrap_or(30));
            let input = TaskInput {
                kind: if categories.is_empty() { TaskKind::Task } else { TaskKind::Drive },
                name: name.to_string(),
                description: String::new(),
                lead: lead.code.clone(),
                cooperating: first(OrgKind::Department, i + 1).map(|u| vec![u.code]).unwrap_or_default(),
                area: None,
                starts_on: start,
                ends_on: ends,
                milestones: milestones
                    .iter()
                    .map(|(d, t)| MilestoneInput { title: t.to_string(), due: start + chrono::Duration::days(*d) })
                    .collect(),
                categories: categories.iter().map(|c| c.to_string()).collect(),
                points: Vec::new(),
            };
            let task = self.create_task(&leader, input).await?;
            made += 1;
            let reporter = if lead.kind == OrgKind::Subdistrict { Some(dispatcher.clone()) } else { self.demo_handler(&lead.id).await? };
            let Some(reporter) = reporter else { continue };
            for (m, pct) in task.milestones.iter().zip(progress.iter()) {
                if *pct == 0 {
                    continue;
                }
                let text = if *pct >= 100 { "已按节点完成,台账资料齐全" } else { "正在推进,已完成部分工作量" };
                let input = ProgressInput { percent: *pct, text: text.into(), photos: Vec::new() };
                match self.report_progress(&reporter, &task.task.id, &m.milestone.id, input).await {
                    Ok(_) | Err(AppError::Forbidden) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(made)
    }

    /// A month's info reports from communities, departments and a team: most adopted, two
    /// waiting for review, one returned for changes. Returns how many were sent.
    pub async fn seed_demo_info_reports(&self) -> AppResult<usize> {
        let reviewer = self.demo_actor("inspector").await?;
        let volunteer = self.demo_actor("volunteer").await?;
        let dir = self.directory();
        let mut communities: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Community).map(|u| u.id.clone()).collect();
        communities.sort();
        let mut departments: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Department).map(|u| u.id.clone()).collect();
        departments.sort();
        let today = beijing_date(self.now());
        let mut sent = 0;
        let (mut c, mut d) = (0, 0);
        for (i, (who, title, body, kind)) in REPORTS.iter().enumerate() {
            let sender = match *who {
                "community" => {
                    c += 1;
                    let Some(id) = communities.get(c - 1) else { continue };
                    self.demo_handler(id).await?
                }
                "department" => {
                    d += 1;
                    let Some(id) = departments.get(d - 1) else { continue };
                    self.demo_handler(id).await?
                }
                _ => Some(volunteer.clone()),
            };
            let Some(sender) = sender else { continue };
            let input = ReportInput {
                kind: *kind,
                title: title.to_string(),
                body: body.to_string(),
                date: Some(today - chrono::Duration::days((i as i64 * 5) % 28)),
                unit: None,
                photos: Vec::new(),
            };
            let r = match self.submit_report(&sender, input).await {
                Ok(r) => r,
                Err(AppError::Forbidden | AppError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            sent += 1;
            let review = match i {
                3 | 6 => None,
                2 => Some(ReviewInput { decision: Decision::Return, note: Some("请补充更新前后的照片".into()) }),
                _ => Some(ReviewInput { decision: Decision::Approve, note: None }),
            };
            if let Some(review) = review {
                self.review_report(&reviewer, &r.report.id, review).await?;
            }
        }
        Ok(sent)
    }
}
