//! `feedpipe run --definition FILE --input JSON|@FILE [--json]`: runs any ASL definition to its
//! end in the local engine, on the real clock, and prints the result.
//!
//! Bad input (a file that is not JSON, unknown fields, a definition that fails validation, an
//! input that is not JSON) is an error naming the file and the state or field, exit 2. Task
//! states whose resource has no local integration fail the execution with `States.Runtime`
//! naming the resource (exit 1).

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde_json::Value;
use statemachine::asl::StateMachine;
use statemachine::engine::{
    Clock, Engine, ExecutionRecord, ExecutionStatus, Integrations, SeededRandom, StartExecution,
};
use statemachine::validate::{validate, Severity};

/// Run an ASL definition locally.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The ASL definition (JSON file).
    #[arg(long)]
    pub definition: PathBuf,
    /// The execution input: JSON text, or @FILE to read it from a file.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// The execution name (default: local-<epoch milliseconds>).
    #[arg(long)]
    pub name: Option<String>,
    /// Print one JSON object {"execution","status","output","error","cause"}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `feedpipe run --definition`.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let definition = load_definition(&args.definition)?;
    let input = load_input(&args.input)?;
    let clock = SystemClock;
    let random = SeededRandom::new(RandomState::new().hash_one(SystemTime::now()));
    let integrations = Integrations::new();
    let engine = Engine::new(&clock, &random, &integrations);
    let machine = args
        .definition
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
    serde_json::from_str(&text).with_context(|| format!("{origin} is not JSON"))
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

/// The system clock with tokio's timers.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    fn sleep_until(&self, deadline_ms: i64) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let wait = u64::try_from(deadline_ms.saturating_sub(self.now_ms())).unwrap_or(0);
        Box::pin(tokio::time::sleep(Duration::from_millis(wait)))
    }
}
