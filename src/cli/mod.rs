//! The command line: `serve`, `demo`, `migrate`, `import`, `user`, `bench`.
//! Every global flag is accepted by every sub-command.

pub mod bench;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::app::App;
use crate::app::people::NewAccount;
use crate::config::{Config, ConfigLayer, LogFormat, Secret};
use crate::domain::authz::{Actor, Role};
use crate::error::AppError;
use crate::i18n::Lang;

#[derive(Parser)]
#[command(name = "chuangcheng", version, about = "创城 — civilized-city campaign software for a subdistrict")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct GlobalArgs {
    /// Configuration file (TOML). Default: ./chuangcheng.toml when it exists.
    #[arg(long, global = true, env = "CHUANGCHENG_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory: SQLite database and stored files (also CHUANGCHENG_DATA_DIR).
    #[arg(long = "data", global = true)]
    data: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite (also CHUANGCHENG_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Address to serve on (also CHUANGCHENG_LISTEN).
    #[arg(long, global = true)]
    listen: Option<std::net::SocketAddr>,
    /// Log format: text or json (also CHUANGCHENG_LOG_FORMAT).
    #[arg(long, global = true, value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Message language for command output: zh-CN or en.
    #[arg(long, global = true, env = "CHUANGCHENG_LANG", default_value = "zh-CN")]
    lang: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and APIs.
    Serve,
    /// Create the demo subdistrict (济阳街道) on an empty data directory, then serve.
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Import grids or people from a file; all rows or none.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Copy the embedded database and photos to a new directory while serving.
    Backup {
        /// The directory to create.
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place as the data directory's store (server stopped).
    Restore {
        /// A directory made by `chuangcheng backup`.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Recount the dashboard counters from the cases; `--fix` rewrites them when they differ.
    Recount {
        #[arg(long)]
        fix: bool,
    },
    /// Manage Open311 API keys.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Write an inspection bulletin (督查通报) of a unit and period from the data, as a Word
    /// document (`--out FILE.docx`) or its tables (`--out FILE.xlsx`); nothing is stored.
    Bulletin {
        /// Code (or name) of the district, subdistrict or community.
        #[arg(long)]
        unit: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// The file to write: .docx or .xlsx.
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure speed: the whole server against ceilings measured in the same run
    /// (`bench --cases 100000 --seconds 5` for a quick run), or `bench locate`.
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A GeoJSON FeatureCollection of grids (properties: code, name, community).
    Grids { file: PathBuf },
    /// An .xlsx or .csv of people (columns: 姓名/name, 手机/phone, 角色/role, 所属单元/org, 用户名/username).
    People { file: PathBuf },
    /// A TOML file of problem categories, in the format of data-files/categories.toml.
    Categories { file: PathBuf },
    /// The evaluation manual (测评手册) as a new version: .toml in the format of
    /// data-files/manual.toml, or .xlsx/.csv with the columns 点位类型, 编号, 测评内容, 分值,
    /// 评分方式, 扣分标准, 问题类别, 否决, 测评方法.
    Manual {
        file: PathBuf,
        /// The version's name for a spreadsheet (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Inspection points (点位) from .xlsx or .csv (名称, 点位类型, 纬度, 经度, 责任单位, 地址).
    Points { file: PathBuf },
    /// Merchants (门前五包) from .xlsx or .csv (商户名称, 地址, 纬度, 经度, 联系人, 电话,
    /// 经营类别, 签订日期; optionally 营业执照号, 所在道路, 责任区).
    Merchants { file: PathBuf },
    /// Volunteers (志愿服务) from .xlsx or .csv (姓名, 手机, 身份证号, 所属队伍; optionally
    /// 政治面貌, 党员驿站, 技能); each gets a volunteer number that is also their username.
    Volunteers { file: PathBuf },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; the key is printed once, as the last line.
    Create {
        /// Who uses it, e.g. "市民随手拍 app".
        #[arg(long)]
        name: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id or name.
    Revoke { id_or_name: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person with a login and one role.
    Add {
        #[arg(long)]
        username: String,
        /// The person's name as shown (e.g. 王芳).
        #[arg(long)]
        name: String,
        /// system_admin, leader, dispatcher, community_admin, grid_worker, department_handler, inspector, volunteer (or 网格员 …).
        #[arg(long)]
        role: String,
        /// Code of the org unit the role applies to (e.g. 370115001001).
        #[arg(long)]
        org: String,
        #[arg(long)]
        phone: Option<String>,
        /// The password; otherwise CHUANGCHENG_PASSWORD, otherwise one line from standard input.
        #[arg(long, env = "CHUANGCHENG_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a person's password.
    Passwd {
        #[arg(long)]
        username: String,
        #[arg(long, env = "CHUANGCHENG_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Issue an API token (Bearer) for a person; printed once.
    Token {
        #[arg(long)]
        username: String,
        /// What the token is for, e.g. "12345 hotline import".
        #[arg(long)]
        name: String,
    },
}

impl GlobalArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let (path, must_exist) = match &self.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from("chuangcheng.toml"), false),
        };
        let file = ConfigLayer::from_file(&path, must_exist)?;
        let env = ConfigLayer::from_env(std::env::vars())?;
        let log_format = match self.log_format.as_deref() {
            Some("json") => Some(LogFormat::Json),
            Some(_) => Some(LogFormat::Text),
            None => None,
        };
        let flags = ConfigLayer {
            data_dir: self.data.clone(),
            database_url: self.database_url.clone().map(Secret::new),
            listen: self.listen,
            log_format,
            ..Default::default()
        };
        Ok(flags.over(env.over(file)).resolve()?)
    }

    fn lang(&self) -> Lang {
        Lang::from_tag(&self.lang).unwrap_or_default()
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    // Colour only for a person at a terminal; a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.global.config()?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let lang = cli.global.lang();
    runtime.block_on(async move {
        match cli.command {
            Command::Bench(b) => bench::run(b, config).await,
            Command::Serve => serve(App::build(config).await.map_err(explain(lang))?).await,
            Command::Demo => demo(config, lang).await,
            Command::Migrate => {
                App::build(config).await.map_err(explain(lang))?;
                println!("schema is at version {}", crate::store::schema::latest_version());
                Ok(())
            }
            Command::Import(what) => import(App::build(config).await.map_err(explain(lang))?, what, lang).await,
            Command::User(cmd) => user(App::build(config).await.map_err(explain(lang))?, cmd, lang).await,
            Command::Backup { to } => {
                let app = App::build(config).await.map_err(explain(lang))?;
                let started = Instant::now();
                let blobs = app.backup(&to).await.map_err(explain(lang))?;
                println!("backup written to {} ({blobs} photo files) in {} ms", to.display(), started.elapsed().as_millis());
                Ok(())
            }
            Command::Restore { from, force } => {
                if config.database_url.is_some() {
                    bail!("PostgreSQL is restored with pg_restore/psql; `restore` is for the embedded store");
                }
                let blobs = crate::app::backup::restore(&from, &config.data_dir, force).map_err(explain(lang))?;
                println!("restored {} into {} ({blobs} photo files)", from.display(), config.data_dir.display());
                Ok(())
            }
            Command::Bulletin { unit, from, to, out } => {
                let app = App::build(config).await.map_err(explain(lang))?;
                bulletin(&app, unit, from, to, &out, lang).await
            }
            Command::Recount { fix } => {
                let app = App::build(config).await.map_err(explain(lang))?;
                let differ = app.recount_tallies(fix).await.map_err(explain(lang))?;
                match (differ, fix) {
                    (0, _) => println!("看板计数与案卷一致 (counters agree with the cases)"),
                    (n, true) => println!("{n} 行计数与案卷不符,已按案卷重算 ({n} counter rows differed; rewritten from the cases)"),
                    (n, false) => {
                        bail!("{n} 行计数与案卷不符,加 --fix 重算 ({n} counter rows differ from the cases; run with --fix to rewrite them)")
                    }
                }
                Ok(())
            }
            Command::Apikey(cmd) => apikey(App::build(config).await.map_err(explain(lang))?, cmd, lang).await,
        }
    })
}

/// Turns an application error into a CLI error with the catalogue message (and the rows of
/// a rejected file).
fn explain(lang: Lang) -> impl Fn(AppError) -> anyhow::Error {
    move |e| {
        let mut msg = e.message(lang);
        if let AppError::InvalidFile(problems) = &e {
            for p in problems {
                msg.push_str(&format!(
                    "\n  {}",
                    crate::i18n::t(lang, "error.import_row", &[("row", &p.row.to_string()), ("reason", &p.message)])
                ));
            }
        }
        if matches!(e, AppError::Store(_) | AppError::Internal(_)) {
            msg.push_str(&format!(" ({e})"));
        }
        anyhow::anyhow!(msg)
    }
}

async fn serve(app: App) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(app.config().listen).await.with_context(|| format!("cannot listen on {}", app.config().listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = app.store().backend().name(), "serving");
    println!("创城 chuangcheng serving at http://{addr}");
    crate::server::serve(app, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn bulletin(app: &App, unit: String, from: chrono::NaiveDate, to: chrono::NaiveDate, out: &Path, lang: Lang) -> anyhow::Result<()> {
    use crate::app::bulletins::NewBulletin;
    use crate::domain::bulletin::BulletinKind;
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    if ext != "docx" && ext != "xlsx" {
        bail!("--out 须以 .docx 或 .xlsx 结尾 (--out must end in .docx or .xlsx): {}", out.display());
    }
    let started = Instant::now();
    let n = NewBulletin { area: Some(unit), kind: BulletinKind::Custom, from: Some(from), to: Some(to) };
    let b = app.preview_bulletin(&Actor::console(), n).await.map_err(explain(lang))?;
    let title = b.title.clone();
    let (_, bytes) = if ext == "docx" { app.docx_of(&b).await } else { app.xlsx_of(b, lang).await }.map_err(explain(lang))?;
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{title}\n已写入 {} ({} KB, {} ms) (written)", out.display(), bytes.len() / 1024, started.elapsed().as_millis());
    Ok(())
}

async fn demo(config: Config, lang: Lang) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = App::build(config).await.map_err(explain(lang))?;
    match app.seed_demo().await.map_err(explain(lang))? {
        Some(logins) => {
            println!("已创建演示数据:济阳区 → 济阳街道,{} 个单元网格 (created the demo subdistrict)", app.directory().len());
            let cases = app.seed_demo_cases(30).await.map_err(explain(lang))?;
            println!("已生成近 30 天的问题案卷 {cases} 件 (generated {cases} cases over the last 30 days)");
            let season = app.seed_demo_inspections(12).await.map_err(explain(lang))?;
            println!(
                "已生成督查点位 {} 个、近 12 周督查轮次 {} 轮、督查 {} 次、由此立案 {} 件 (inspection points, rounds, inspections, cases they opened)",
                season.points, season.rounds, season.inspections, season.cases
            );
            let b = app.seed_demo_bulletins(12).await.map_err(explain(lang))?;
            println!(
                "已印发督查通报 {} 期、整改通知 {} 份,反馈问题 {} 个,逾期升级 {} 份 (bulletins, notices, answers, escalated)",
                b.bulletins, b.notices, b.answered, b.escalated
            );
            let reports = app.seed_demo_info_reports().await.map_err(explain(lang))?;
            println!("已报送信息 {reports} 篇 (info reports sent)");
            let tasks = app.seed_demo_key_tasks().await.map_err(explain(lang))?;
            println!("已部署重点任务 {tasks} 项 (key tasks under way)");
            let m = app.seed_demo_merchants().await.map_err(explain(lang))?;
            println!(
                "已登记门前五包商户 {} 家、检查 {} 次、立案 {} 件,发布红黑榜 3 个月:红榜 {} 家次、黑榜 {} 家次,移交市场监管 {} 家 (merchants, checks, cases, red, black, referred)",
                m.merchants, m.checks, m.cases, m.red, m.black, m.referred
            );
            let v = app.seed_demo_volunteers().await.map_err(explain(lang))?;
            println!(
                "已登记志愿者 {} 名,近 13 周志愿服务活动 {} 场,确认服务时长 {} 小时 (volunteers, activities, confirmed hours)",
                v.volunteers, v.activities, v.hours
            );
            println!("演示账号 demo logins (password / 密码: {}):", crate::app::demo::DEMO_PASSWORD);
            for l in logins {
                println!("  {:<12} {:<20} {}", l.username, l.role.as_str(), l.unit);
            }
            if let Some((phone, code)) = m.login {
                println!("  商户登录 shop login: /login/shop 手机号 {phone} 商户码 {code}");
            }
        }
        None => println!("数据目录已有数据,直接启动 (data directory already has data; serving it)"),
    }
    println!("ready in {} ms", started.elapsed().as_millis());
    serve(app).await
}

async fn import(app: App, what: ImportCommand, lang: Lang) -> anyhow::Result<()> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = match what {
        ImportCommand::Grids { file } => {
            spinner.set_message(format!("checking and importing {}", file.display()));
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            app.import_grids(&Actor::console(), text, lang)
                .await
                .map(|s| format!("grids imported: {} new, {} updated", s.created, s.updated))
        }
        ImportCommand::Categories { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            app.import_categories(&Actor::console(), &text, lang).await.map(|n| format!("categories imported: {n}"))
        }
        ImportCommand::People { file } => {
            spinner.set_message(format!("checking and importing {}", file.display()));
            app.import_people(&Actor::console(), &file, lang).await.map(|n| format!("people imported: {n}"))
        }
        ImportCommand::Manual { file, name } => {
            spinner.set_message(format!("checking and importing {}", file.display()));
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let toml = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
            let name = name.unwrap_or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
            app.import_manual(&Actor::console(), &name, &bytes, toml, lang)
                .await
                .map(|m| format!("manual imported: version {} “{}”, {} point types, {} items", m.version, m.name, m.point_types, m.items))
        }
        ImportCommand::Points { file } => {
            spinner.set_message(format!("checking and importing {}", file.display()));
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            app.import_points(&Actor::console(), &bytes, lang).await.map(|(a, u)| format!("points imported: {a} new, {u} updated"))
        }
        ImportCommand::Merchants { file } => {
            spinner.set_message(format!("checking and importing {}", file.display()));
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            app.import_merchants(&Actor::console(), &bytes, lang).await.map(|n| format!("已导入商户 {n} 家 (merchants imported: {n})"))
        }
        ImportCommand::Volunteers { file } => {
            spinner.set_message(format!("checking and importing {}", file.display()));
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            app.import_volunteers(&Actor::console(), &bytes, lang).await.map(|n| format!("已导入志愿者 {n} 名 (volunteers imported: {n})"))
        }
    };
    spinner.finish_and_clear();
    println!("{}", result.map_err(explain(lang))?);
    Ok(())
}

fn password_or_stdin(password: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = password {
        return Ok(p);
    }
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("no password given");
    }
    Ok(p)
}

async fn user(app: App, cmd: UserCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { username, name, role, org, phone, password } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
            let password = password_or_stdin(password)?;
            let id = app
                .add_person(
                    &Actor::console(),
                    NewAccount { name, phone, username: Some(username.clone()), password: Some(password), role, org_code: org },
                )
                .await
                .map_err(explain(lang))?;
            println!("added {username} ({id})");
        }
        UserCommand::Passwd { username, password } => {
            let password = password_or_stdin(password)?;
            app.set_password(&Actor::console(), &username, &password).await.map_err(explain(lang))?;
            println!("password changed for {username}");
        }
        UserCommand::Token { username, name } => {
            let person_id = app.person_id(&username).await.map_err(explain(lang))?.context("no such username")?;
            let token = app.create_api_token(&Actor::console(), &person_id, &name).await.map_err(explain(lang))?;
            println!("{token}");
        }
    }
    Ok(())
}

async fn apikey(app: App, cmd: ApikeyCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        ApikeyCommand::Create { name } => {
            let (id, key) = app.create_api_key(&Actor::console(), &name).await.map_err(explain(lang))?;
            println!("created API key {id} for {name}; keep it secret, it is shown only now:");
            println!("{key}");
        }
        ApikeyCommand::List => {
            for k in app.api_keys(&Actor::console()).await.map_err(explain(lang))? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}  {:<8} {}", k.id, state, k.name);
            }
        }
        ApikeyCommand::Revoke { id_or_name } => {
            let n = app.revoke_api_key(&Actor::console(), &id_or_name).await.map_err(explain(lang))?;
            println!("revoked {n} key(s)");
        }
    }
    Ok(())
}
