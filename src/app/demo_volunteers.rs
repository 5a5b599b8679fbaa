//! The demo's 志愿服务: the seed's teams get their volunteers (imported from a generated sheet
//! the way an office would, with valid ID numbers), the demo `volunteer` and `teamleader`
//! logins get records of their own, and a season of activities of every kind is held with
//! check-ins, confirmed hours and a correction — so the ledger, star levels and the lists mean
//! something. One activity is under way now and a service fair is coming, so the check-in and
//! the sign-up can be tried.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::app::App;
use crate::app::volunteers::ActivityInput;
use crate::domain::authz::Actor;
use crate::domain::calendar::{beijing_date, beijing_text};
use crate::domain::org::OrgKind;
use crate::domain::volunteer::{ActivityKind, AttendanceState, CorrectionDecision, Politics, SignupState, id_check_char};
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::store::new_id;
use crate::store::volunteers::{self as db, AttendanceRow, CorrectionRow, MembershipRow, Served, SignupRow, VolunteerRow};

const SEED: u64 = 17;

const SURNAMES: [&str; 16] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "孙", "马", "朱", "胡", "郭", "孟"];
const GIVEN: [&str; 16] =
    ["秀兰", "桂英", "建华", "志强", "玉梅", "国庆", "海燕", "振东", "红霞", "立新", "晓燕", "德明", "春生", "丽娟", "子涵", "雨轩"];
const SKILLS: [&str; 10] = ["理发", "缝补", "义诊", "法律咨询", "家电维修", "书法", "摄影", "舞蹈", "心理疏导", "文明劝导"];

/// What an activity of each kind is, where it happens and what it offers.
const PLANS: [(ActivityKind, &str, &[&str]); 7] = [
    (ActivityKind::ServiceFair, "志愿服务大集", &["理发", "衣物缝补", "义诊", "电影放映", "法律咨询调解"]),
    (ActivityKind::Persuasion, "文明劝导", &[]),
    (ActivityKind::Performance, "送戏进小区文艺演出", &["文艺演出"]),
    (ActivityKind::Cleanup, "老旧小区环境整治", &["清理楼道杂物"]),
    (ActivityKind::Publicity, "创城宣传", &["发放宣传册"]),
    (ActivityKind::Visit, "孤寡老人巡访", &["上门探访"]),
    (ActivityKind::PartyDuty, "党员驿站周末值守", &["便民服务"]),
];

/// What the demo made.
#[derive(Debug, Clone, Default)]
pub struct VolunteerDemo {
    pub volunteers: usize,
    pub activities: usize,
    pub hours: i64,
}

fn id_number(rng: &mut StdRng) -> String {
    let birth = format!("{}{:02}{:02}", rng.random_range(1950..2012), rng.random_range(1..13), rng.random_range(1..29));
    let body = format!("370125{birth}{:03}", rng.random_range(0..1000));
    let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
    format!("{body}{}", id_check_char(&digits).unwrap_or('0'))
}

impl App {
    /// Seeds the demo's volunteers and a season of their activities (after `seed_demo`).
    pub async fn seed_demo_volunteers(&self) -> AppResult<VolunteerDemo> {
        let mut rng = StdRng::seed_from_u64(SEED);
        let console = Actor::console();
        let dir = self.directory();
        let mut teams: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Team).cloned().collect();
        teams.sort_by(|a, b| a.code.cmp(&b.code));
        let station = teams.iter().find(|t| t.name.contains("党员驿站")).map(|t| t.name.clone());
        let mut communities: Vec<_> = dir.units().filter(|u| u.kind == OrgKind::Community).cloned().collect();
        communities.sort_by(|a, b| a.code.cmp(&b.code));
        let places: Vec<(String, crate::domain::coords::LatLon)> = communities
            .iter()
            .filter_map(|c| {
                let grid = dir.grids().filter(|g| g.community.code == c.code).map(|g| g.code.clone()).min()?;
                dir.interior_point(&grid)
                    .map(|p| (format!("{}文化广场", c.name.trim_end_matches("社区居委会").trim_end_matches("社区")), p))
            })
            .collect();
        drop(dir);
        if teams.is_empty() || places.is_empty() {
            return Ok(VolunteerDemo::default());
        }
        // The registry, imported as an office would.
        let mut sheet = String::from("姓名,手机,身份证号,所属队伍,政治面貌,党员驿站,技能\n");
        for n in 0..160usize {
            let team = &teams[n % teams.len()];
            let party = team.name.contains("党员驿站") || rng.random_bool(0.35);
            sheet.push_str(&format!(
                "{}{},137{:08},{},{},{},{},{}、{}\n",
                SURNAMES[n % SURNAMES.len()],
                GIVEN[(n * 7 + n / 16) % GIVEN.len()],
                6_100_000 + n,
                id_number(&mut rng),
                team.name,
                if party {
                    "中共党员"
                } else if n % 5 == 0 {
                    "共青团员"
                } else {
                    "群众"
                },
                if party { station.clone().unwrap_or_default() } else { String::new() },
                SKILLS[n % SKILLS.len()],
                SKILLS[(n * 3 + 1) % SKILLS.len()],
            ));
        }
        let volunteers = self.import_volunteers(&console, sheet.as_bytes(), Lang::ZhCn).await?;
        // The demo logins' own records.
        let now = self.now();
        let today = crate::domain::inspection::day_key(beijing_date(now));
        let (t0, t5) = (teams[0].clone(), teams.iter().find(|t| t.name.contains("党员驿站")).unwrap_or(&teams[0]).clone());
        self.store()
            .write(move |c| {
                for (username, name, politics, team) in
                    [("volunteer", "孟晓燕", Politics::LeagueMember, &t0), ("teamleader", "王建华", Politics::PartyMember, &t0)]
                {
                    let Some(cred) = crate::store::people::credentials(c, username)? else { continue };
                    let serial = db::count_numbered(c, &format!("ZY{}", today / 10_000))? + 1;
                    let row = VolunteerRow {
                        id: new_id(),
                        number: format!("ZY{}{serial:06}", today / 10_000),
                        name: name.into(),
                        phone: Some(format!("1390531{:04}", serial)),
                        id_number: None,
                        politics,
                        station_id: politics.is_party_member().then(|| t5.id.clone()),
                        skills: vec!["文明劝导".into()],
                        person_id: Some(cred.person_id.clone()),
                        minutes: 0,
                        star: 0,
                        grid_path: team.path.clone(),
                        active: true,
                        created_at: now,
                    };
                    let m =
                        MembershipRow { volunteer_id: row.id.clone(), team_id: team.id.clone(), joined_on: today - 10_000, left_on: None };
                    db::insert_volunteers(c, &[row], &[m])?;
                }
                Ok::<_, crate::error::AppError>(())
            })
            .await?;
        // A season: two activities a week for the last 13 weeks, each team in turn.
        let rules = self.hours_rules().await?;
        let all = self.store().read(|c| db::volunteers(c, &["/".to_string()], None, None, 10_000)).await?;
        let mut by_team: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for v in &all {
            let m = self.store().read({
                let id = v.id.clone();
                move |c| db::memberships(c, &id)
            });
            for x in m.await? {
                by_team.entry(x.team_id).or_default().push(v.id.clone());
            }
        }
        let mut activities = 0;
        let mut hours = 0;
        let day0 = beijing_date(now);
        for week in 0..13i64 {
            for slot in 0..2i64 {
                let k = (week * 2 + slot) as usize;
                let team = &teams[k % teams.len()];
                // A party station keeps its duty; the teams take the other kinds in turn.
                let plan = if team.name.contains("党员驿站") { PLANS.len() - 1 } else { (k / teams.len() + k) % (PLANS.len() - 1) };
                let (kind, title, services) = PLANS[plan];
                let (place, at) = &places[k % places.len()];
                let date = day0 - chrono::Duration::days(91 - week * 7 - slot * 3);
                let starts = format!("{date} {}", if slot == 0 { "09:00" } else { "14:30" });
                let ends = format!("{date} {}", if slot == 0 { "11:30" } else { "17:00" });
                let input = ActivityInput {
                    title: format!("{title}({})", &date.to_string()[5..]),
                    kind: kind.as_str().into(),
                    services: services.iter().map(|s| s.to_string()).collect(),
                    team: team.id.clone(),
                    place: place.clone(),
                    lat: at.lat,
                    lon: at.lon,
                    closes: Some(format!("{} 18:00", date - chrono::Duration::days(1))),
                    starts,
                    ends,
                    capacity: 30,
                    public: matches!(kind, ActivityKind::ServiceFair | ActivityKind::Performance),
                    note: None,
                };
                let a = self.checked_activity(&console, input, &team.id, None)?;
                let members = by_team.get(&team.id).cloned().unwrap_or_default();
                let mut signups = Vec::new();
                let mut atts = Vec::new();
                for (i, v) in members.iter().enumerate().take(rng.random_range(10..26)) {
                    signups.push(SignupRow {
                        activity_id: a.id.clone(),
                        volunteer_id: v.clone(),
                        state: SignupState::Signed,
                        at: a.created_at - 86_400_000,
                    });
                    if rng.random_bool(0.9) {
                        let late = rng.random_range(0..20) * 60_000;
                        let early = rng.random_range(0..15) * 60_000;
                        let (cin, cout) = (a.starts_at - 10 * 60_000 + late, a.ends_at - early);
                        let minutes = crate::domain::volunteer::served_minutes(a.starts_at, a.ends_at, cin, cout, rules.coverage);
                        atts.push(AttendanceRow {
                            id: new_id(),
                            activity_id: a.id.clone(),
                            volunteer_id: v.clone(),
                            checked_in_at: Some(cin),
                            checked_out_at: Some(cout),
                            by_hand: i % 17 == 3,
                            minutes,
                            state: AttendanceState::Confirmed,
                            decided_by: None,
                            decided_at: Some(a.ends_at + 3_600_000),
                            note: None,
                        });
                    }
                }
                let mut a = a;
                a.signed = signups.len() as i64;
                a.services = services.iter().map(|s| Served { service: s.to_string(), beneficiaries: rng.random_range(12..90) }).collect();
                if kind == ActivityKind::Publicity {
                    a.materials =
                        vec![crate::store::volunteers::Handed { material: "创城宣传册".into(), count: rng.random_range(150..400) }];
                }
                hours += atts.iter().map(|x| x.minutes).sum::<i64>();
                activities += 1;
                let star = move |m: i64| rules.star_of(m);
                self.store()
                    .write(move |c| {
                        db::insert_activity(c, &a)?;
                        for s in &signups {
                            db::put_signup(c, s)?;
                        }
                        db::insert_attendances(c, &atts)?;
                        for x in &atts {
                            db::add_minutes(c, &x.volunteer_id, x.minutes, &star, x.decided_at.unwrap_or(0))?;
                        }
                        // A volunteer who came early asks for the hours they served.
                        if let Some(x) = atts.first() {
                            db::put_correction(
                                c,
                                &CorrectionRow {
                                    id: new_id(),
                                    attendance_id: x.id.clone(),
                                    volunteer_id: x.volunteer_id.clone(),
                                    minutes_asked: crate::domain::volunteer::activity_minutes(a.starts_at, a.ends_at),
                                    reason: "提前到场布置场地,签退时扫码失败".into(),
                                    asked_at: a.ends_at + 7_200_000,
                                    decision: CorrectionDecision::Open,
                                    decided_by: None,
                                    decided_at: None,
                                    answer: None,
                                },
                            )?;
                        }
                        Ok::<_, crate::error::AppError>(())
                    })
                    .await?;
            }
        }
        // Now: a persuasion round under way with the demo volunteer signed up, and a service
        // fair on Saturday open for sign-up.
        let (place, at) = places[0].clone();
        let start = now - 3_600_000;
        for (title, kind, starts, ends, services) in [
            ("“向阳花开”文明劝导(进行中)", ActivityKind::Persuasion, start, start + 3 * 3_600_000, vec![]),
            (
                "开元社区志愿服务大集",
                ActivityKind::ServiceFair,
                now + 3 * 86_400_000,
                now + 3 * 86_400_000 + 3 * 3_600_000,
                vec!["理发", "衣物缝补", "义诊", "法律咨询调解"],
            ),
        ] {
            let input = ActivityInput {
                title: title.into(),
                kind: kind.as_str().into(),
                services: services.into_iter().map(str::to_string).collect(),
                team: teams[0].id.clone(),
                place: place.clone(),
                lat: at.lat,
                lon: at.lon,
                starts: beijing_text(starts),
                ends: beijing_text(ends),
                closes: None,
                capacity: 40,
                public: kind == ActivityKind::ServiceFair,
                note: None,
            };
            let mut a = self.checked_activity(&console, input, &teams[0].id, None)?;
            a.closes_at = a.starts_at.max(now + 3_600_000).min(a.ends_at);
            let login = self.store().read(|c| crate::store::people::credentials(c, "volunteer")).await?;
            self.store()
                .write(move |c| {
                    db::insert_activity(c, &a)?;
                    if let Some(cred) = login
                        && let Some(v) = db::volunteer_of_person(c, &cred.person_id)?
                    {
                        db::put_signup(
                            c,
                            &SignupRow { activity_id: a.id.clone(), volunteer_id: v.id.clone(), state: SignupState::Signed, at: now },
                        )?;
                        db::bump_signed(c, &a.id, 1)?;
                    }
                    Ok::<_, crate::error::AppError>(())
                })
                .await?;
            activities += 1;
        }
        Ok(VolunteerDemo { volunteers: volunteers + 2, activities, hours: hours / 60 })
    }
}
