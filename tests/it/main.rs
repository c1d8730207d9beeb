//! The integration tests, in one crate so that the app links once: each module is one
//! subject (the CLI, records, the worker, the app driven headless, …); `support` holds what
//! they share.

mod support;

mod activation_reference;
#[cfg(feature = "gui")]
mod app_autopsy_map;
#[cfg(feature = "gui")]
mod app_classroom;
#[cfg(feature = "gui")]
mod app_compare;
#[cfg(feature = "gui")]
mod app_files;
#[cfg(feature = "gui")]
mod app_options_cli;
#[cfg(feature = "gui")]
mod app_plots;
#[cfg(feature = "gui")]
mod app_recording;
#[cfg(feature = "gui")]
mod app_ui;
#[cfg(feature = "gui")]
mod app_views;
#[cfg(feature = "gui")]
mod app_web;
mod architecture;
mod autopsy;
mod cli;
mod cli_files;
mod cli_robust;
mod compare;
mod config_errors;
mod determinism;
mod dying_relu_claims;
mod export;
mod forward_by_hand;
mod gradient_check;
mod in_frame;
mod lesson_scripts;
mod live_commands;
mod modes;
mod readme_links;
mod records;
mod remedies;
#[cfg(feature = "video")]
mod render;
#[cfg(all(feature = "video", feature = "gui"))]
mod render_app;
mod story_text;
mod sweep;
mod web_worker;
mod worker;
mod workload_digests;
