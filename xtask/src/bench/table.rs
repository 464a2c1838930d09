//! The bench's figures as text tables, from its JSON report.

use std::fmt::Write;

use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn failures(side: &Value) -> String {
    let attempted = side["attempted"].as_u64().unwrap_or(0);
    let verified = side["verified"].as_u64().unwrap_or(0);
    let dups = side["duplicate_serials"].as_u64().unwrap_or(0);
    format!(
        "{} failed, {} dup serials",
        attempted.saturating_sub(verified),
        dups
    )
}

/// Renders every part of the report.
pub fn render(r: &Value) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n== (a) SCEP enrollments/s (median of {} interleaved runs of {} devices; only verified successes count)",
        r["scep"]["repeats"], r["scep"]["devices_per_run"]);
    if let Some(skipped) = r["scep"]["skipped"].as_str() {
        let _ = writeln!(o, "skipped: {skipped}");
    } else {
        let _ = writeln!(
            o,
            "{:>3} | {:>32} | {:>32} | {:>6}",
            "C", "our NDES (serve)", "micromdm scepserver", "ours÷mm"
        );
        for row in r["scep"]["rows"].as_array().into_iter().flatten() {
            let side = |s: &Value| {
                format!(
                    "{:>6.0}/s p50 {:>5.1} p99 {:>5.1} ms",
                    f(&s["enrollments_per_second"]),
                    f(&s["p50_ms"]),
                    f(&s["p99_ms"])
                )
            };
            let _ = writeln!(
                o,
                "{:>3} | {:>32} | {:>32} | {:>6.2}",
                row["concurrency"].as_u64().unwrap_or(0),
                side(&row["ours"]),
                side(&row["micromdm"]),
                f(&row["ratio"])
            );
            let _ = writeln!(
                o,
                "    | {:>32} | {:>32} |",
                failures(&row["ours"]),
                failures(&row["micromdm"])
            );
        }
    }
    let rates = &r["rsa"]["rates"];
    let _ = writeln!(o, "\n== (b) RSA-2048 private operations, one core");
    let _ = writeln!(
        o,
        "NDES decrypt {:.0}/s ({:.3} ms), NDES sign {:.0}/s ({:.3} ms), CA sign {:.0}/s ({:.3} ms)",
        f(&rates["decrypt_per_second"]),
        1000.0 / f(&rates["decrypt_per_second"]).max(1e-9),
        f(&rates["sign_per_second"]),
        1000.0 / f(&rates["sign_per_second"]).max(1e-9),
        f(&rates["ca_sign_per_second"]),
        1000.0 / f(&rates["ca_sign_per_second"]).max(1e-9)
    );
    let _ = writeln!(
        o,
        "bound: {:.0} enrollments/s per core (3 private ops per enrollment)",
        f(&rates["bound_per_core"])
    );
    for row in r["rsa"]["vs_bound"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  C={:<3} cores used {} bound {:>6.0}/s ours {:>6.0}/s = {:>5.1}% of the bound",
            row["concurrency"].as_u64().unwrap_or(0),
            row["cores_used"],
            f(&row["bound"]),
            f(&row["ours"]),
            100.0 * f(&row["fraction"])
        );
    }
    let _ = writeln!(
        o,
        "\n== (c) PKCS requests, download → issue → upload (in process)"
    );
    let _ = writeln!(
        o,
        "{:>8} | {:>8} | {:>8} | {:>10} | {:>6} | proof",
        "requests", "wall s", "req/s", "peak RSS", "CSRs s"
    );
    for row in r["pkcs"]["rows"].as_array().into_iter().flatten() {
        // Intune's ledger and the connector's own events agree (`PkcsReport::proven`).
        let proven = row["proven"].as_bool() == Some(true);
        let _ = writeln!(
            o,
            "{:>8} | {:>8.2} | {:>8.0} | {:>6.1} MiB | {:>6.2} | {}",
            row["requests"].as_u64().unwrap_or(0),
            f(&row["wall_seconds"]),
            f(&row["requests_per_second"]),
            f(&row["peak_rss_kib"]) / 1024.0,
            f(&row["csr_seconds"]),
            if proven {
                format!(
                    "each uploaded exactly once ({} distinct CSRs)",
                    row["distinct_csrs"]
                )
            } else {
                format!(
                    "NOT PROVEN: once {} twice+ {} missing {} not issued {} pending {}; events {}",
                    row["uploaded_once"],
                    row["uploaded_twice_or_more"],
                    row["missing"],
                    row["not_issued"],
                    row["still_pending"],
                    row["events"]
                )
            }
        );
    }
    let s = &r["suite"];
    let build = r["build"].as_str().unwrap_or("release");
    let _ = writeln!(
        o,
        "\n== (d) scenario suite (`connector-harness run`, {build})"
    );
    let _ = writeln!(o, "wall {:.3} s (median of {:?}); {} scenarios, sum {:.0} ms; median scenario {:.1} ms; slowest {} {:.0} ms",
        f(&s["wall_seconds"]), s["wall_seconds_runs"].as_array().map(|v| v.len()).unwrap_or(0), s["scenarios"],
        f(&s["sum_of_scenario_ms"]), f(&s["median_scenario_ms"]), s["slowest"]["name"].as_str().unwrap_or(""), f(&s["slowest"]["ms"]));
    let _ = writeln!(
        o,
        "\nbench took {:.1} s on {} cores{}{}",
        f(&r["seconds"]),
        r["cores"],
        if r["quick"] == true { " (--quick)" } else { "" },
        if build == "debug" {
            "; a debug build (dependencies optimised, the harness not): not comparable with a release run"
        } else {
            ""
        }
    );
    o
}

/// Correctness problems the figures revealed (ours only: micromdm's failures are data).
pub fn problems(r: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for row in r["scep"]["rows"].as_array().into_iter().flatten() {
        let ours = &row["ours"];
        if ours["attempted"] != ours["verified"] || ours["duplicate_serials"].as_u64() != Some(0) {
            out.push(format!(
                "our NDES at concurrency {}: {}",
                row["concurrency"],
                failures(ours)
            ));
        }
    }
    for row in r["pkcs"]["rows"].as_array().into_iter().flatten() {
        if row["proven"].as_bool() != Some(true) {
            out.push(format!(
                "PKCS {}: not every request was issued and uploaded exactly once (Intune's ledger or the connector's events)",
                row["requests"]
            ));
        }
    }
    out
}
