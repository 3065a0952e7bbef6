//! Who is on the other end of a request: the address sign-in limits are kept by. Behind the
//! reverse proxy a deployment puts in front (docs/deploy.md), every connection comes from the
//! proxy, and the limits would be one for everyone; the proxy names the real client in
//! `X-Forwarded-For`, which is believed from the proxies the server is told to trust only
//! (`--trusted-proxy`), never from anyone else, who could name any address they liked.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpAddr>);

/// The client's address: the connection's, or the one a trusted proxy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The address a proxy appended last to `X-Forwarded-For` (the one it saw connect).
fn forwarded(parts: &Parts) -> Option<IpAddr> {
    parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|a| a.trim().parse().ok())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip())
            .ok_or_else(ApiError::internal)?;
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .is_some_and(|t| t.0.contains(&peer));
        Ok(ClientAddr(
            trusted.then(|| forwarded(parts)).flatten().unwrap_or(peer),
        ))
    }
}
