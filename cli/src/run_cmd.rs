//! `feedpipe run`, `start` and `redrive`: the commands that drive an execution in the local
//! engine.
//!
//! `run --feed NAME` runs the feedpipe pipeline for one feed of `feedpipe.toml` (or the embedded
//! example) to its end with the local integrations, keeping the execution under
//! `.feedpipe/executions/`, and shows it live. `start` does the same in a background process and
//! returns the execution's name at once. `redrive EXECUTION` resumes a failed one from the state
//! that did not finish. `run --definition FILE --input JSON|@FILE` runs any ASL definition
//! (Task states without a local integration fail with `States.Runtime` naming the resource).
//!
//! Exit status: 0 the execution succeeded, 1 it did not, 2 bad usage, configuration or input
//! (errors name the file and the state or field).

use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use runs::integrations::WorkerProgram;
use runs::{Description, Local, RunWatcher, RunsError};
use serde_json::Value;
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Clock, Engine, ExecutionRecord, ExecutionStatus, Integrations, SeededRandom, StartExecution,
};
use statemachine::validate::{validate, Severity};

use crate::backend::{Backend, Target};
use crate::config::Loaded;
use crate::view::LiveView;

/// Run the pipeline for a feed, or any ASL definition, locally, to its end.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG", conflicts_with = "definition")]
    pub config: Option<PathBuf>,
    /// The feed to run the pipeline for (a `[[feed]]` name of the configuration).
    #[arg(
        long,
        required_unless_present = "definition",
        conflicts_with = "definition"
    )]
    pub feed: Option<String>,
    /// Run this ASL definition (JSON file) instead of the pipeline.
    #[arg(long)]
    pub definition: Option<PathBuf>,
    /// With --definition: the execution input, JSON text or @FILE.
    #[arg(long, default_value = "{}", requires = "definition")]
    pub input: String,
    /// The execution name (default: FEED-<start time>, or local-<epoch ms> for --definition).
    #[arg(long)]
    pub name: Option<String>,
    /// Print one JSON object {"execution","status","output","error","cause"} (and no live view).
    #[arg(long)]
    pub json: bool,
    /// Skip the waits the definition asks for (Wait states, Retry backoffs): the clock jumps to
    /// their end. Recorded in a pipeline run's execution; a redrive keeps it.
    #[arg(long)]
    pub fast_waits: bool,
}

/// Start a pipeline run in the background and print its execution name.
#[derive(clap::Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub target: Target,
    /// The feed to run the pipeline for.
    #[arg(long)]
    pub feed: String,
    /// The execution name (default: FEED-<start time>).
    #[arg(long)]
    pub name: Option<String>,
    /// Print {"execution","status"} as JSON.
    #[arg(long)]
    pub json: bool,
    /// Skip the waits the definition asks for (see `feedpipe run --fast-waits`).
    #[arg(long)]
    pub fast_waits: bool,
}

/// Resume a FAILED, TIMED_OUT or ABORTED execution from the state that did not finish.
#[derive(clap::Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub target: Target,
    /// The execution's name.
    pub execution: String,
    /// Print one JSON object {"execution","status","output","error","cause"} (and no live view).
    #[arg(long)]
    pub json: bool,
}

/// Runs `feedpipe run`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    match (&args.feed, &args.definition) {
        (Some(feed), None) => {
            let local = local(args.config.as_deref(), true)?;
            let feed = feed.clone();
            follow_result(args.json, move |view| async move {
                local.run(&feed, args.name, args.fast_waits, view).await
            })
        }
        _ => run_definition(args),
    }
}

/// Runs `feedpipe redrive`: locally in this process to the new end; with `--aws`,
/// RedriveExecution, then the execution followed to its new end.
pub fn redrive(args: RedriveArgs) -> anyhow::Result<ExitCode> {
    if args.target.aws {
        let view = LiveView::new();
        let d = runtime()?.block_on(async {
            let backend = args.target.backend(false).await?;
            let Backend::Aws(sfn) = &backend else {
                unreachable!("--aws gives the AWS backend")
            };
            sfn.redrive(&args.execution).await?;
            crate::inspect_cmd::follow_on(&backend, &args.execution, &view).await
        })?;
        if args.json {
            println!("{}", d.summary_json());
        } else {
            view.finish(&d);
        }
        return Ok(status_code(&d));
    }
    let local = local(args.target.config.as_deref(), true)?;
    let name = args.execution;
    follow_result(args.json, move |view| async move {
        local.redrive(&name, view).await
    })
}

/// Runs `feedpipe start`: `feedpipe run` in a background process of its own (its output in
/// `.feedpipe/logs/EXECUTION/engine.log`); returns when the execution exists.
pub fn start(args: StartArgs) -> anyhow::Result<ExitCode> {
    if args.target.aws {
        let name = args.name.clone().unwrap_or_else(|| {
            runs::local::manual_name(&args.feed, runs::clock::SystemClock.now_ms())
        });
        let d = runtime()?.block_on(async {
            let Backend::Aws(sfn) = args.target.backend(false).await? else {
                unreachable!("--aws gives the AWS backend")
            };
            Ok::<_, anyhow::Error>(sfn.start(&args.feed, &name).await?)
        })?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"execution": d.name, "status": d.status.as_str(), "executionArn": d.execution_arn})
            );
        } else {
            println!("{}", d.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let loaded = Loaded::load(args.target.config.as_deref())?;
    let project = loaded.project()?;
    if project.config.feed(&args.feed).is_none() {
        bail!(
            "feed {:?} is not configured in {}",
            args.feed,
            project.config_file.display()
        );
    }
    let name = args
        .name
        .unwrap_or_else(|| runs::local::manual_name(&args.feed, runs::clock::SystemClock.now_ms()));
    let store = runs::ExecutionStore::new(project.state_dir.clone());
    if store.exists(&name) {
        return Err(RunsError::AlreadyExists(name).into());
    }
    let log = store.logs_dir(&name).join("engine.log");
    std::fs::create_dir_all(store.logs_dir(&name))
        .with_context(|| format!("cannot create {}", store.logs_dir(&name).display()))?;
    let out =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let exe = std::env::current_exe().context("cannot find the feedpipe executable")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("run")
        .arg("--feed")
        .arg(&args.feed)
        .arg("--name")
        .arg(&name);
    if !loaded.embedded {
        cmd.arg("--config").arg(&loaded.file);
    }
    if args.fast_waits {
        cmd.arg("--fast-waits");
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().context("cannot share the log file")?)
        .stderr(out)
        .spawn()
        .context("cannot start the engine process")?;
    loop {
        if let Ok(d) = store.description(&name) {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"execution": d.name, "status": d.status.as_str()})
                );
            } else {
                println!("{}", d.name);
            }
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(status) = child
            .try_wait()
            .context("cannot watch the engine process")?
        {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            eprint!("{text}");
            return Ok(ExitCode::from(if status.code() == Some(2) { 2 } else { 1 }));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The local backend of the configuration `config` (or the default one); with `jobs`, able to
/// run Batch jobs.
pub fn local(config: Option<&Path>, jobs: bool) -> anyhow::Result<Local> {
    let loaded = Loaded::load(config)?;
    let project = loaded.project()?;
    let worker = if jobs {
        Some(WorkerProgram::find(std::env::current_exe().ok())?)
    } else {
        None
    };
    Ok(Local::new(project, worker))
}

/// The async runtime of the commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Drives `work` with a live view (unless `json`), prints its result, and maps it to the exit
/// status.
fn follow_result<F, Fut>(json: bool, work: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Option<Arc<dyn RunWatcher>>) -> Fut,
    Fut: std::future::Future<Output = Result<Description, RunsError>>,
{
    let view = Arc::new(LiveView::new());
    let watcher = (!json).then(|| view.clone() as Arc<dyn RunWatcher>);
    let result = runtime()?.block_on(work(watcher));
    let d = match result {
        Ok(d) => d,
        Err(e) if e.is_usage() => return Err(e.into()),
        Err(e) => {
            eprintln!("feedpipe: error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        println!("{}", d.summary_json());
    } else {
        view.finish(&d);
    }
    Ok(status_code(&d))
}

/// 0 when the execution succeeded, 1 otherwise.
pub fn status_code(d: &Description) -> ExitCode {
    if d.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Runs `feedpipe run --definition`.
fn run_definition(args: RunArgs) -> anyhow::Result<ExitCode> {
    let path = args
        .definition
        .clone()
        .context("--definition or --feed is required")?;
    let definition = load_definition(&path)?;
    let input = load_input(&args.input)?;
    let clock: Box<dyn Clock> = if args.fast_waits {
        Box::new(runs::clock::FastWaits::new())
    } else {
        Box::new(runs::clock::SystemClock)
    };
    let random = SeededRandom::new(RandomState::new().hash_one(SystemTime::now()));
    let integrations = Integrations::new();
    // The states as they are entered and left, and where a Wait waits until, on stderr.
    let view = LiveView::for_definition(&definition);
    let mut engine = Engine::new(clock.as_ref(), &random, &integrations);
    if !args.json {
        engine.observer = Some(&view);
    }
    let machine = path
        .file_stem()
        .map(|s| {
            s.to_string_lossy().replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                "-",
            )
        })
        .unwrap_or_else(|| "local".into());
    let start = StartExecution {
        state_machine_name: machine,
        name: args
            .name
            .unwrap_or_else(|| format!("local-{}", clock.now_ms())),
        input,
        express: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .context("cannot start the async runtime")?;
    let record = runtime.block_on(engine.start(definition, start));
    print_record(&record, args.json);
    Ok(if record.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads, parses and validates a definition; errors name the file, and the state and field.
pub fn load_definition(path: &Path) -> anyhow::Result<StateMachine> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the definition {}", path.display()))?;
    let machine = StateMachine::from_json(&text)
        .with_context(|| format!("{} is not a valid ASL definition", path.display()))?;
    let (errors, warnings): (Vec<_>, Vec<_>) = validate(&machine)
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    for w in warnings {
        eprintln!("feedpipe: {}: {w}", path.display());
    }
    let errors: Vec<String> = errors.into_iter().map(|d| d.to_string()).collect();
    if !errors.is_empty() {
        bail!(
            "{} fails validation:\n  {}",
            path.display(),
            errors.join("\n  ")
        );
    }
    Ok(machine)
}

/// The execution input: JSON text, or `@FILE`.
pub fn load_input(arg: &str) -> anyhow::Result<Value> {
    let (text, origin) = match arg.strip_prefix('@') {
        Some(file) => (
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the input file {file}"))?,
            file.to_string(),
        ),
        None => (arg.to_string(), "--input".to_string()),
    };
    // Step Functions refuses an input over 256 KiB in StartExecution: so does this, before
    // the text is even parsed.
    statemachine::engine::check_start_input_text(&text).with_context(|| origin.clone())?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{origin} is not JSON"))?;
    statemachine::engine::check_start_input(&value).with_context(|| origin.clone())?;
    Ok(value)
}

fn print_record(record: &ExecutionRecord, json: bool) {
    if json {
        println!("{}", record.summary_json());
        return;
    }
    println!("execution: {}", record.execution_arn);
    println!("status:    {}", record.status.as_str());
    if let Some(out) = &record.output {
        println!("output:    {out}");
    }
    if let Some(e) = &record.error {
        println!("error:     {e}");
    }
    if let Some(c) = &record.cause {
        println!("cause:     {c}");
    }
}
