//! rumqttd 0.20.0's broker, started like its own binary: `rumqttd -c FILE [-v]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = match args.iter().position(|a| a == "-c") {
        Some(i) if i + 1 < args.len() => args[i + 1].clone(),
        _ => {
            eprintln!("usage: rumqttd -c CONFIG.toml [-v]   (or --version)");
            std::process::exit(2);
        }
    };
    let level = if args.iter().any(|a| a == "-v") {
        "rumqttd=info"
    } else {
        "rumqttd=warn"
    };
    tracing_subscriber::fmt().with_env_filter(level).init();
    let config: rumqttd::Config = config::Config::builder()
        .add_source(config::File::with_name(&path))
        .build()
        .expect("config file")
        .try_deserialize()
        .expect("rumqttd config");
    let mut broker = rumqttd::Broker::new(config);
    broker.start().expect("broker");
}
