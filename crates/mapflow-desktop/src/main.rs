//! Mapflow Desktop: the GUI by default, or `sandbox` to serve the local API headless.

use clap::{Parser, Subcommand};
use mapflow_desktop::api::Token;
use mapflow_desktop::app::Settings;
use mapflow_desktop::sandbox::{self, SandboxConfig};
use mapflow_desktop::{AppOptions, MapflowApp};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "mapflow-desktop", version, about = "Mapflow Desktop: AI mapping from satellite and aerial imagery")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the local Mapflow-compatible sandbox without a window, until Ctrl-C.
    Sandbox {
        /// Address to listen on; loopback unless told otherwise.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The one API token to accept (base64 of email:key); the demo token when omitted.
        #[arg(long)]
        token: Option<String>,
        /// Where the sandbox keeps its state; the user's data directory when omitted.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// How long a processing takes to finish, in seconds (0 to a year).
        #[arg(long, default_value_t = 5.0, allow_hyphen_values = true, value_parser = parse_seconds)]
        processing_seconds: f64,
        /// When the account's database cannot be read: set it aside and start a new demo account
        /// (without this the sandbox refuses to start and leaves the file untouched).
        #[arg(long)]
        reset_state: bool,
    },
    /// Start the app with these GIS files (GeoJSON, GeoPackage, FlatGeobuf, Shapefile) as layers.
    Open {
        /// The files to open.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Work with processings' results from scripts.
    Results {
        #[command(subcommand)]
        command: ResultsCmd,
    },
}

#[derive(Subcommand)]
enum ResultsCmd {
    /// Save a finished processing's result as GeoJSON, GeoPackage, FlatGeobuf or Shapefile,
    /// by the output's extension (.geojson, .gpkg, .fgb, .shp).
    Save {
        /// The processing's id.
        processing_id: String,
        /// The file to write.
        out: PathBuf,
        /// The API's base URL; the saved sign-in's server when omitted (a sandbox's URL
        /// with no --token uses the demo token).
        #[arg(long)]
        server: Option<String>,
        /// The API token; the saved sign-in's when omitted.
        #[arg(long)]
        token: Option<String>,
    },
}

/// A duration flag: a finite number of seconds from 0 to a year (NaN, infinities and
/// negative values would break every date the sandbox computes from it).
fn parse_seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    sandbox::check_seconds("the duration", value)
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,wgpu=warn,naga=warn,walkers=warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => run_gui(Vec::new()),
        Some(Cmd::Open { files }) => run_gui(files),
        Some(Cmd::Sandbox { addr, token, data_dir, processing_seconds, reset_state }) => {
            run_sandbox(addr, token, data_dir, processing_seconds, reset_state)
        }
        Some(Cmd::Results { command: ResultsCmd::Save { processing_id, out, server, token } }) => {
            save_result(&processing_id, &out, server.as_deref(), token.as_deref())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_gui(files: Vec<PathBuf>) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Mapflow Desktop")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size(mapflow_desktop::MIN_WINDOW),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "Mapflow Desktop",
        options,
        Box::new(|cc| {
            let settings: Settings =
                cc.storage.and_then(|s| eframe::get_value(s, mapflow_desktop::SETTINGS_KEY)).unwrap_or_default();
            let mut app = MapflowApp::new(&cc.egui_ctx, settings, AppOptions::user_default())?;
            for path in files {
                app.state.follow_up.push(mapflow_desktop::worker::Command::OpenLayer { path: Some(path) });
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| e.to_string())
}

fn save_result(id: &str, out: &std::path::Path, server: Option<&str>, token: Option<&str>) -> Result<(), String> {
    use mapflow_desktop::cli;
    if mapflow_desktop::export::Format::from_path(out).is_none() {
        return Err(format!("{}: choose a .geojson, .gpkg, .fgb or .shp file", out.display()));
    }
    let target = cli::target(server, token, cli::saved_sign_in)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(cli::save_result(target, id, out, &mut |line| eprintln!("{line}")))
}

fn run_sandbox(
    addr: SocketAddr,
    token: Option<String>,
    data_dir: Option<PathBuf>,
    processing_seconds: f64,
    reset_unreadable_state: bool,
) -> Result<(), String> {
    let token = match token {
        Some(t) => Token::parse(&t).map_err(|e| format!("--token: {e}"))?,
        None => sandbox::demo_token(),
    };
    let data_dir = data_dir.or_else(|| mapflow_desktop::app::project_dirs().map(|d| d.data_dir().join("sandbox")));
    let team = sandbox::team_token();
    let config = SandboxConfig {
        addr,
        token: token.clone(),
        team_token: team.clone(),
        data_dir: data_dir.clone(),
        processing_seconds,
        reset_unreadable_state,
        ..SandboxConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime
        .block_on(sandbox::serve(config, move |bound| {
            println!("Mapflow sandbox listening on http://{bound}/rest");
            println!("Accepted token: {} (account {})", token.expose(), token.email());
            println!(
                "Second token: {} (account {}: review workflow on, shares two projects with the first)",
                team.expose(),
                team.email()
            );
            if let Some(dir) = &data_dir {
                println!("State kept in {}", dir.display());
            }
        }))
        .map_err(|e| e.to_string())
}
