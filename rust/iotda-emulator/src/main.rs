//! `iotda-emulator`: see `--help` and the crate's README.

use clap::Parser;
use iotda_emulator::{cli::Args, log, Emulator};

fn main() {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => {
            // --help / --version
            let _ = e.print();
            return;
        }
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("iotda-emulator: {text}");
            std::process::exit(2);
        }
    };
    let cfg = match args.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("iotda-emulator: {e}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iotda-emulator: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(run(cfg));
    std::process::exit(code);
}

async fn run(cfg: iotda_emulator::Config) -> i32 {
    let devices = cfg.devices.len();
    let project = cfg.project_id.clone();
    let emu = match Emulator::start(cfg).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("iotda-emulator: {e}");
            return 1;
        }
    };
    // These lines are parsed by tools (iotda-loadgen, run_demo.sh, tests).
    log!("iotda-emulator: mqtt listening on {}", emu.mqtt_addr());
    if let Some(a) = emu.mqtts_addr() {
        log!("iotda-emulator: mqtts listening on {a}");
    }
    if let Some(ca) = emu.ca_path() {
        log!("iotda-emulator: test CA certificate {}", ca.display());
    }
    log!("iotda-emulator: http listening on {}", emu.http_addr());
    log!("iotda-emulator: console http://{}/", emu.http_addr());
    log!("iotda-emulator: project_id {project}, {devices} device(s) registered");
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("iotda-emulator: cannot watch SIGTERM: {e}");
            return 1;
        }
    };
    tokio::select! {
        _ = term.recv() => log!("iotda-emulator: SIGTERM, shutting down"),
        _ = tokio::signal::ctrl_c() => log!("iotda-emulator: SIGINT, shutting down"),
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), emu.shutdown()).await;
    log!("iotda-emulator: stopped");
    0
}
