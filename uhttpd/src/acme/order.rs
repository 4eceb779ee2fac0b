//! One ACME order with instant-acme (RFC 8555 §7.4): account, order,
//! one challenge per authorization, finalize with a fresh key's CSR,
//! download the chain. Async; run on the ACME thread's own runtime.

use std::fmt;
use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy,
};

use super::challenges::Challenges;
use super::store::Store;
use crate::cli::AcmeSettings;

/// Which challenge the CA is asked to validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTTP-01 on the plain (`--redirect-http`) listener.
    Http01,
    /// TLS-ALPN-01 on the TLS listener.
    TlsAlpn01,
}

impl Kind {
    fn challenge_type(self) -> ChallengeType {
        match self {
            Kind::Http01 => ChallengeType::Http01,
            Kind::TlsAlpn01 => ChallengeType::TlsAlpn01,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Http01 => "HTTP-01",
            Kind::TlsAlpn01 => "TLS-ALPN-01",
        })
    }
}

/// Why an order failed: one line, the CA's own words where it gave any.
#[derive(Debug)]
pub enum OrderError {
    /// The CA answered with an error, or could not be reached.
    Acme(instant_acme::Error),
    /// The order ended `invalid`: why, per authorization.
    Invalid(String),
    /// The CA offers no challenge of the kind this server can answer.
    NoChallenge { domain: String, kind: Kind },
    /// Storing the account failed.
    Store(std::io::Error),
    /// Making a key, CSR or challenge certificate failed: why.
    Key(String),
    /// The whole order took too long.
    Timeout,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::Acme(e) => write!(f, "{e}"),
            OrderError::Invalid(why) => write!(f, "order invalid: {why}"),
            OrderError::NoChallenge { domain, kind } => {
                write!(f, "the CA offers no {kind} challenge for {domain}")
            }
            OrderError::Store(e) => write!(f, "cannot store the account: {e}"),
            OrderError::Key(e) => write!(f, "cannot make the key: {e}"),
            OrderError::Timeout => f.write_str("timed out"),
        }
    }
}

impl std::error::Error for OrderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OrderError::Acme(e) => e.source(),
            OrderError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<instant_acme::Error> for OrderError {
    fn from(e: instant_acme::Error) -> Self {
        OrderError::Acme(e)
    }
}

impl From<rcgen::Error> for OrderError {
    fn from(e: rcgen::Error) -> Self {
        OrderError::Key(e.to_string())
    }
}

/// A certificate chain and its key, both PEM.
pub struct Issued {
    pub chain_pem: String,
    pub key_pem: String,
}

/// How long the CA gets to validate, and to issue.
const POLL: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(250))
    .backoff(1.5)
    .timeout(Duration::from_secs(90));

/// The stored account for the CA, else a new one (then stored).
pub async fn account(settings: &AcmeSettings, store: &Store) -> Result<Account, OrderError> {
    let builder = || match &settings.ca_root {
        Some(root) => Account::builder_with_root(root),
        None => Account::builder(),
    };
    if let Some(credentials) = store.account(&settings.directory) {
        return Ok(builder()?.from_credentials(credentials).await?);
    }
    let contact: Vec<String> = settings
        .email
        .iter()
        .map(|e| format!("mailto:{e}"))
        .collect();
    let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
    let new = NewAccount {
        contact: &contact,
        terms_of_service_agreed: true,
        only_return_existing: false,
    };
    let (account, credentials) = builder()?
        .create(&new, settings.directory.clone(), None)
        .await?;
    store
        .save_account(&settings.directory, credentials)
        .map_err(OrderError::Store)?;
    log::info!("ACME: account created at {}", settings.directory);
    Ok(account)
}

/// Orders a certificate for `domains`, answering `kind` challenges
/// through `challenges` (cleared when done, whatever the outcome).
pub async fn issue(
    account: &Account,
    domains: &[String],
    kind: Kind,
    challenges: &Challenges,
) -> Result<Issued, OrderError> {
    let result = run(account, domains, kind, challenges).await;
    challenges.clear();
    result
}

async fn run(
    account: &Account,
    domains: &[String],
    kind: Kind,
    challenges: &Challenges,
) -> Result<Issued, OrderError> {
    let identifiers: Vec<Identifier> = domains.iter().cloned().map(Identifier::Dns).collect();
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        match authz.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                return Err(OrderError::Invalid(format!(
                    "authorization for {} is {other:?}",
                    authz.identifier()
                )));
            }
        }
        let domain = authz.identifier().to_string();
        let Some(mut challenge) = authz.challenge(kind.challenge_type()) else {
            return Err(OrderError::NoChallenge { domain, kind });
        };
        let key_authorization = challenge.key_authorization();
        match kind {
            Kind::Http01 => challenges.set_http01(&challenge.token, key_authorization.as_str()),
            Kind::TlsAlpn01 => {
                challenges
                    .set_tls_alpn01(&domain, key_authorization.digest().as_ref())
                    .map_err(OrderError::Key)?;
            }
        }
        challenge.set_ready().await?;
    }
    let status = order.poll_ready(&POLL).await?;
    if status != OrderStatus::Ready {
        return Err(OrderError::Invalid(why_invalid(&mut order).await));
    }
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(domains.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key)?;
    order.finalize_csr(csr.der()).await?;
    let chain_pem = order.poll_certificate(&POLL).await?;
    Ok(Issued {
        chain_pem,
        key_pem: key.serialize_pem(),
    })
}

/// The errors of the order and of its failed challenges, as the CA gave
/// them.
async fn why_invalid(order: &mut instant_acme::Order) -> String {
    let mut reasons = Vec::new();
    if let Some(problem) = &order.state().error {
        reasons.push(problem.to_string());
    }
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authz)) = authorizations.next().await {
        if authz.refresh().await.is_err() {
            continue;
        }
        let domain = authz.identifier().to_string();
        for challenge in &authz.challenges {
            if let Some(problem) = &challenge.error {
                reasons.push(format!("{domain}: {:?}: {problem}", challenge.r#type));
            }
        }
    }
    if reasons.is_empty() {
        reasons.push("the CA gave no reason".to_owned());
    }
    reasons.join("; ")
}
