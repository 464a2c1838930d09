//! Before the timed part: one CSR and one signed, enveloped PKCSReq per device.
//!
//! Device `n` uses fixture device key `n mod 4` for both its CSR and its request signature, and
//! that key's self-signed signer certificate: four keys sign every message, so preparing
//! thousands of devices costs two RSA signatures each and no key generation. Randomness
//! (transaction ids, nonces, content keys) comes from the seed, device by device, so the
//! messages do not depend on how the work is spread over threads.

use std::sync::Arc;

use super::discover::Server;
use super::http::operation_url;
use super::LoadError;
use crate::fixtures::{self, DEVICE_KEYS};
use crate::pki::{b64, build_csr};
use crate::scep::client::{build_pkcs_req, Device, SentRequest};
use crate::sim::Rng;

/// The id (and CSR common name) of device `n` in the run with `seed`. The seed is part of it
/// because servers remember names: micromdm refuses a second certificate for a common name
/// that holds a valid one, so two runs against one server need different seeds.
pub fn device_id(seed: u64, n: usize) -> String {
    format!("load-{seed}-device-{n:07}")
}

/// What one device sends.
#[derive(Clone, Debug)]
pub enum Request {
    /// `POST url` with the DER message.
    Post {
        /// The PKIOperation URL.
        url: Arc<str>,
        /// The message.
        body: Vec<u8>,
    },
    /// `GET url` with the message in the query (servers without POSTPKIOperation).
    Get {
        /// The PKIOperation URL with `message=`.
        url: String,
    },
}

/// One device's enrollment as prepared.
#[derive(Clone, Debug)]
pub struct Item {
    /// Device id (the CSR's CN).
    pub device_id: String,
    /// Index of its signer in [`Prepared::signers`].
    pub signer: usize,
    /// The message with what the CertRep must echo.
    pub sent: SentRequest,
}

/// Every device's message, ready to send.
pub struct Prepared {
    /// One signer identity per fixture device key.
    pub signers: Vec<Device>,
    /// Per device, in device order.
    pub items: Vec<Item>,
    /// Per device, in device order.
    pub requests: Arc<Vec<Request>>,
}

/// Builds every device's CSR and PKIOperation (on every core; the result does not depend on
/// how many). `challenges[n]` goes into device `n`'s CSR.
pub fn prepare(
    server: &Server,
    url: &str,
    ids: &[String],
    challenges: &[Option<String>],
    seed: u64,
) -> Result<Prepared, LoadError> {
    let root = Rng::new(seed);
    let what = "building the device signer certificates";
    let signers = (0..DEVICE_KEYS.len())
        .map(|k| {
            let key = fixtures::device_key(k).map_err(LoadError::fixture(what))?;
            let mut rng = root.fork(&format!("load/signer/{k}"));
            Device::self_signed(key, &format!("TEST ONLY load signer {k}"), &mut rng)
                .map_err(LoadError::scep(what))
        })
        .collect::<Result<Vec<Device>, LoadError>>()?;
    let post_url: Arc<str> = Arc::from(operation_url(url, "PKIOperation", None));
    let one = |n: usize| -> Result<(Item, Request), LoadError> {
        let signer = n % signers.len();
        let device = &signers[signer];
        let id = &ids[n];
        let csr = build_csr(&device.key, id, challenges[n].as_deref())
            .map_err(LoadError::pki(format!("building the CSR of {id}")))?;
        let mut rng = root.fork(&format!("load/device/{n}"));
        let sent = build_pkcs_req(
            device,
            &csr,
            &server.ra.encryption,
            &server.options,
            &mut rng,
        )
        .map_err(LoadError::scep(format!("building the PKCSReq of {id}")))?;
        let request = if server.caps.post() {
            Request::Post {
                url: post_url.clone(),
                body: sent.message.clone(),
            }
        } else {
            Request::Get {
                url: operation_url(url, "PKIOperation", Some(&b64(&sent.message))),
            }
        };
        Ok((
            Item {
                device_id: id.clone(),
                signer,
                sent,
            },
            request,
        ))
    };
    let built = on_every_core(ids.len(), one)?;
    let (items, requests) = built.into_iter().unzip();
    Ok(Prepared {
        signers,
        items,
        requests: Arc::new(requests),
    })
}

/// `f(0..n)` spread over the machine's cores, results in index order; the first error wins.
pub(crate) fn on_every_core<T: Send>(
    n: usize,
    f: impl Fn(usize) -> Result<T, LoadError> + Sync,
) -> Result<Vec<T>, LoadError> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, n.max(1));
    let f = &f;
    let parts: Vec<Result<Vec<(usize, T)>, LoadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|i| f(i).map(|v| (i, v)))
                        .collect::<Result<Vec<_>, LoadError>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or(Err(LoadError::Panicked("a worker thread")))
            })
            .collect()
    });
    let mut all: Vec<(usize, T)> = Vec::with_capacity(n);
    for part in parts {
        all.extend(part?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}
