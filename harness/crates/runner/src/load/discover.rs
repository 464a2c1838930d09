//! Before the timed part: what the server can do (GetCACaps), whom to encrypt to and whose
//! signature to expect (GetCACert), and, with `--mint`, one challenge per device.

use tokio::task::JoinSet;

use super::http::{operation_url, read_capped};
use super::LoadError;
use crate::contract::intune::admin::{MintChallenge, MintedChallenge};
use crate::scep::{parse_ca_certs, CaCaps, RaCerts, RequestOptions};

/// What the load generator learnt about the server.
#[derive(Clone, Debug)]
pub struct Server {
    /// Its GetCACaps keywords.
    pub caps: CaCaps,
    /// Its RA certificates by role.
    pub ra: RaCerts,
    /// The algorithms requests use (the strongest the caps advertise).
    pub options: RequestOptions,
}

async fn get(client: &reqwest::Client, url: &str, what: &str) -> Result<Vec<u8>, LoadError> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|error| LoadError::Unreachable {
            what: what.into(),
            url: url.into(),
            error,
        })?;
    let status = resp.status();
    let body = read_capped(resp).await.map_err(|e| LoadError::Answer {
        what: what.into(),
        why: format!("reading the answer: {e}"),
    })?;
    if !status.is_success() {
        return Err(LoadError::Answer {
            what: what.into(),
            why: format!(
                "HTTP {} from {url}: {}",
                status.as_u16(),
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
        });
    }
    Ok(body)
}

/// GetCACaps then GetCACert on `url`.
pub async fn discover(client: &reqwest::Client, url: &str) -> Result<Server, LoadError> {
    let caps = get(client, &operation_url(url, "GetCACaps", None), "GetCACaps").await?;
    let caps = CaCaps::parse(&String::from_utf8_lossy(&caps));
    let certs = get(
        client,
        &operation_url(url, "GetCACert", Some("CA")),
        "GetCACert",
    )
    .await?;
    let unusable = |why: &str| {
        let why = why.to_string();
        move |e: crate::scep::ScepError| LoadError::Answer {
            what: "GetCACert".into(),
            why: format!("{why}: {e}"),
        }
    };
    let certs = parse_ca_certs(&certs).map_err(unusable("the answer does not parse"))?;
    let ra = RaCerts::select(certs).map_err(unusable("choosing the RA certificates"))?;
    Ok(Server {
        options: caps.request_options(),
        caps,
        ra,
    })
}

/// One challenge per device id, minted by `POST {mint_url}` with `{"deviceId","userId"}`,
/// `concurrency` at a time. The n-th challenge belongs to the n-th id.
pub async fn mint(
    client: &reqwest::Client,
    mint_url: &str,
    ids: &[String],
    concurrency: usize,
) -> Result<Vec<String>, LoadError> {
    let mut out: Vec<Option<String>> = vec![None; ids.len()];
    let mut tasks = JoinSet::new();
    let mut next = 0;
    loop {
        while tasks.len() < concurrency.max(1) && next < ids.len() {
            let (client, url, n) = (client.clone(), mint_url.to_string(), next);
            let body = MintChallenge {
                device_id: ids[n].clone(),
                user_id: format!("{}-user", ids[n]),
                profile: "SCEP-Default".into(),
                validity_seconds: 3600,
            };
            tasks.spawn(async move {
                let what = "minting a challenge";
                let resp = client
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|error| LoadError::Unreachable {
                        what: what.into(),
                        url: url.clone(),
                        error,
                    })?;
                let status = resp.status();
                let answer = |why: String| LoadError::Answer {
                    what: format!("{what} at {url}"),
                    why,
                };
                let bytes = read_capped(resp).await.map_err(|e| answer(e.to_string()))?;
                if !status.is_success() {
                    return Err(answer(format!(
                        "HTTP {}: {}",
                        status.as_u16(),
                        String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                    )));
                }
                let minted: MintedChallenge = serde_json::from_slice(&bytes).map_err(|e| {
                    answer(format!(
                        "the answer is not {{\"challenge\", \"expiresAt\"}}: {e}"
                    ))
                })?;
                Ok::<_, LoadError>((n, minted.challenge))
            });
            next += 1;
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let (n, challenge) = done.map_err(|_| LoadError::Panicked("a minting task"))??;
        out[n] = Some(challenge);
    }
    out.into_iter()
        .enumerate()
        .map(|(n, c)| {
            c.ok_or_else(|| LoadError::Answer {
                what: "minting a challenge".into(),
                why: format!("no challenge was minted for {}", ids[n]),
            })
        })
        .collect()
}
