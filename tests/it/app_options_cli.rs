//! The app's own options on the command line: `relu-lab --open LINK` reads a shared link as the
//! browser does and refuses a broken one before opening anything; `--in-frame` picks the
//! browser's trainer backend. Neither mixes with a headless command.

use std::process::{Command, Output};

/// Runs `relu-lab` with no display, so that nothing can open a window.
fn relu_lab_without_display(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relu-lab"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("cannot start relu-lab")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is not UTF-8")
}

#[test]
fn a_broken_link_is_refused_with_each_problem_named_before_any_window() {
    let output = relu_lab_without_display(&["--open", "lesson=2&lr=abc&colour=red"]);
    let error = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{error}");
    assert!(error.contains("“colour=red” is not a setting"), "{error}");
    assert!(error.contains("“lr=abc” is not a number"), "{error}");
    assert!(error.contains("Nothing was opened"), "{error}");
    assert!(!error.contains("cannot open its window"), "the link is checked first: {error}");
    assert!(!error.contains("panicked"), "{error}");
}

#[test]
fn a_good_link_or_the_in_frame_backend_goes_on_to_open_the_window() {
    for args in
        [&["--open", "lesson=2&lr=3"][..], &["--open", "https://example.org/relu-lab/#lesson=4"], &["--in-frame"]]
    {
        let output = relu_lab_without_display(args);
        let error = stderr(&output);
        // Without a display the app says so; it got that far because the options were fine.
        assert_eq!(output.status.code(), Some(1), "{args:?}: {error}");
        assert!(error.contains("cannot open its window"), "{args:?}: {error}");
    }
}

#[test]
fn the_app_options_do_not_mix_with_a_command() {
    let output = relu_lab_without_display(&["--open", "lesson=2", "presets"]);
    let error = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{error}");
    assert!(error.contains("cannot be used with a command"), "{error}");
}
