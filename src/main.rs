//! `relu-lab`: opens the app, or runs a headless command.

#![cfg_attr(not(feature = "gui"), expect(clippy::print_stdout, reason = "the headless fallback says what it runs"))]

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::Completion;
use cli::{AppArgs, Cli};
#[cfg(not(feature = "gui"))]
use cli::{CliCommand, OutputArgs, RunArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else { return open_app(&cli.app) };
    if cli.app.is_given() {
        say("relu-lab: --open and --in-frame are for the app; they cannot be used with a command");
        return ExitCode::from(2);
    }
    report(cli::execute(command, &mut std::io::stdout().lock()))
}

fn report(result: anyhow::Result<Completion>) -> ExitCode {
    match result {
        Ok(Completion::Done) => ExitCode::SUCCESS,
        Ok(Completion::Interrupted(interruption)) => {
            say(&format!("relu-lab: {}; what was computed so far is written", interruption.describe()));
            ExitCode::from(interruption.exit_code())
        }
        Ok(Completion::Diverged(message)) => {
            say(&format!("relu-lab: {message}; every output is written"));
            ExitCode::from(cli::DIVERGED_EXIT_CODE)
        }
        Ok(Completion::Abandoned(interruption)) => ExitCode::from(interruption.exit_code()),
        // The reader went away before the command could say anything more.
        Err(error) if is_broken_pipe(&error) => ExitCode::from(cli::Interruption::BrokenPipe.exit_code()),
        Err(error) => {
            say(&format!("relu-lab: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

/// Writes a line to standard error; if that is closed or full, there is nobody to tell.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Opens the app on the saved lesson (the first one on a first launch), or on the shared link
/// `--open` names, already training; with `--in-frame`, the trainer runs inside the frames as
/// in a browser. Where no window can be opened, says so in plain words and names the headless
/// command.
#[cfg(feature = "gui")]
fn open_app(args: &AppArgs) -> ExitCode {
    if let Some(link) = &args.open
        && let Err(problems) = check_link(link)
    {
        for problem in problems {
            say(&format!("relu-lab: {problem}"));
        }
        say("Nothing was opened: correct the link and try again.");
        return ExitCode::from(2);
    }
    let backend = if args.in_frame {
        relu_lab::train::worker::TrainerBackend::InFrame
    } else {
        relu_lab::train::worker::TrainerBackend::Thread
    };
    let link = args.open.clone();
    // Before eframe reads the saved state: a bad zoom factor there used to panic every launch.
    let notices = relu_lab::app::saved_state::state_file(APP_ID)
        .map(|path| relu_lab::app::saved_state::repair_file(&path))
        .unwrap_or_default();
    // Also where a launch from a terminal can read them, and a test can check them.
    for notice in &notices {
        say(&format!("relu-lab: {notice}"));
    }
    if !has_display() {
        return no_window("no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set)");
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("ReLU Lab")
            .with_app_id(APP_ID)
            .with_inner_size([1280.0, 720.0])
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    let result = eframe::run_native(
        "ReLU Lab",
        options,
        Box::new(move |creation| {
            let options = relu_lab::app::AppOptions { link, backend, ..relu_lab::app::AppOptions::default() };
            let mut app = relu_lab::app::ReluLabApp::with_options(options, creation.storage, &creation.egui_ctx);
            for notice in notices {
                app.add_notice(notice);
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The backend's own error names files and OS calls; the user needs the plain cause.
        Err(_) => no_window("no usable display or OpenGL driver was found"),
    }
}

/// Reads a shared link as the app would; `Err` lists every part it would leave out (a link
/// typed on the command line is better corrected than opened in part).
#[cfg(feature = "gui")]
fn check_link(link: &str) -> Result<(), Vec<String>> {
    let lessons = relu_lab::train::lessons::load_lessons().map_err(|error| vec![error.to_string()])?;
    let parsed = relu_lab::share_link::parse(link);
    let mut problems: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
    if parsed.link.is_empty() && problems.is_empty() {
        problems.push(format!("the link “{link}” names no lesson or setting (such as lesson=2&lr=3)"));
    }
    match parsed.link.open(&lessons) {
        Ok(opened) => problems.extend(opened.problems.iter().map(ToString::to_string)),
        Err(message) => problems.push(message.to_string()),
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// The app's id: the window class, and the folder its state is saved in.
#[cfg(feature = "gui")]
const APP_ID: &str = "relu-lab";

/// Whether a window system is reachable at all (on Linux and the BSDs, through the environment).
#[cfg(feature = "gui")]
fn has_display() -> bool {
    if cfg!(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd")) {
        ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
    } else {
        true
    }
}

/// Explains that no window can be opened and what to run instead.
#[cfg(feature = "gui")]
fn no_window(reason: &str) -> ExitCode {
    say(&format!("relu-lab cannot open its window: {reason}."));
    say("The app needs a graphical desktop with OpenGL. To train without a window, run:");
    say(&format!("    relu-lab run --preset {}", cli::DEFAULT_PRESET));
    say("(`relu-lab presets` lists every lesson's preset.)");
    ExitCode::FAILURE
}

/// Without the app, a bare `relu-lab` runs the default lesson headless.
#[cfg(not(feature = "gui"))]
fn open_app(args: &AppArgs) -> ExitCode {
    if args.is_given() {
        say("relu-lab was built without the app (feature `gui`): --open and --in-frame need it.");
        return ExitCode::from(2);
    }
    println!("relu-lab was built without the app (feature `gui`); running the default lesson headless.");
    let command = CliCommand::Run(RunArgs {
        preset: Some(cli::DEFAULT_PRESET.to_owned()),
        config: None,
        network: None,
        seed: None,
        steps: 3000,
        output: OutputArgs { every: None, csv: None, json: false, force: false },
        record: None,
        export_network: None,
    });
    report(cli::execute(command, &mut std::io::stdout().lock()))
}
