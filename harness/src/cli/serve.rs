//! `connector-harness serve`: one set of fakes and the reference connector (as NDES's policy
//! module), running until Ctrl-C, for vendors and outside SCEP clients to talk to.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use crate::connector::{Connector, ConnectorConfig, RetryPolicy};
use crate::contract::intune::admin;
use crate::event::Sink;
use crate::fakes::ca::{CaConfig, FakeCa};
use crate::fakes::intune::{FakeIntune, IntuneConfig};
use crate::fakes::ndes::{FakeNdes, NdesConfig};
use crate::sim::{Clock, Rng, DEFAULT_EPOCH};

/// Arguments of `serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (loopback unless you say otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Also write the URLs as JSON to this file (written once every fake is listening).
    #[arg(long)]
    pub urls_file: Option<PathBuf>,
    /// Write the event stream as JSON Lines to this file at shutdown.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Seed of serials, challenges and nonces.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scenario clock at start (RFC 3339).
    #[arg(long)]
    pub start_time: Option<String>,
}

/// Runs `serve`; returns the exit code.
pub fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_async(args))
}

async fn serve_async(args: ServeArgs) -> anyhow::Result<u8> {
    let start = match &args.start_time {
        Some(t) => crate::sim::parse_time(t)
            .with_context(|| format!("--start-time `{t}` is not RFC 3339"))?,
        None => DEFAULT_EPOCH,
    };
    let clock = Clock::new(start);
    let rng = Rng::new(args.seed);
    let sink = Sink::new(clock.clone());
    let ca = FakeCa::start(
        CaConfig {
            bind: args.bind,
            ..CaConfig::default()
        },
        clock.clone(),
        rng.fork("ca"),
    )
    .await
    .context("starting the fake CA")?;
    let intune = FakeIntune::start(IntuneConfig::default(), clock.clone(), rng.fork("intune"))
        .await
        .context("starting the fake Intune service")?;
    let day = time::Duration::days(1);
    let store_dir = tempfile::Builder::new()
        .prefix("connector-store-")
        .tempdir()
        .context("creating the registration store directory")?;
    let signing =
        crate::pki::unb64(&intune.signing_certificate().certificate).map_err(anyhow::Error::msg)?;
    crate::provision::provision(
        store_dir.path(),
        &crate::provision::StoreSetup {
            condition: crate::provision::StoreCondition::Present,
            not_before: start.saturating_sub(day),
            not_after: start.saturating_add(day * 365),
            signing_certificate: true,
            crp_encryption_certificate: true,
        },
        &signing,
    )?;
    let config = ConnectorConfig {
        discovery_url: intune.discovery_url(),
        store_dir: store_dir.path().to_path_buf(),
        ca_url: ca.url().to_string(),
        ca_name: CaConfig::default().name,
        retry: RetryPolicy {
            timeout: std::time::Duration::from_secs(5),
            ..RetryPolicy::default()
        },
        renewal_window: day * 30,
        batch_size: 100,
        ra_certificate: false,
        scep_template: "IntuneDevice".into(),
        bugs: Default::default(),
    };
    let (time, log) = crate::connector::env::in_process(&clock, &sink);
    let connector = Connector::new(config, log, time);
    connector.start().await;
    let ndes_config = NdesConfig {
        bind: args.bind,
        ca_url: ca.url().to_string(),
        ca_name: CaConfig::default().name,
        timeout: std::time::Duration::from_secs(5),
        ..NdesConfig::default()
    };
    let ndes = FakeNdes::start(ndes_config, Arc::new(connector.clone()), rng.fork("ndes"))
        .await
        .context("starting the fake NDES")?;

    let urls = json!({
        "ca": ca.url(),
        "intune": intune.url(),
        "ndes": ndes.url(),
        "intune_discovery": intune.discovery_url(),
        "mint_challenge": format!("{}{}", intune.url(), admin::CHALLENGES),
    });
    println!("fake CA      {}", ca.url());
    println!("fake Intune  {}", intune.url());
    println!("fake NDES    {}", ndes.url());
    println!(
        "\nMint a SCEP challenge:\n  curl -s -X POST {}{} -H 'content-type: application/json' -d '{{\"deviceId\":\"device-1\",\"userId\":\"user-1\"}}'",
        intune.url(),
        admin::CHALLENGES
    );
    println!("\nPress Ctrl-C to stop.");
    if let Some(path) = &args.urls_file {
        std::fs::write(path, serde_json::to_string_pretty(&urls)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let mut shown = 0;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {
                let records = sink.records();
                for r in &records[shown..] {
                    eprintln!("event {} {} {} {}", r.event.id(), r.event.name(), r.code, r.details.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
                }
                shown = records.len();
            }
        }
    }
    connector.stop().await;
    if let Some(path) = &args.events {
        std::fs::write(path, crate::event::to_jsonl(&sink.records()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    ndes.shutdown().await;
    intune.shutdown().await;
    ca.shutdown().await;
    Ok(super::EXIT_OK)
}
