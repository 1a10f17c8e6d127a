//! Envoy `ext_authz` over gRPC (issue 20, item 5): the v3
//! `envoy.service.auth.v3.Authorization/Check` service on
//! `[forward_auth] grpc_listen`, for Envoy, Istio, Envoy Gateway, Contour
//! and Gloo, which speak only gRPC to an authorization service.
//!
//! A `Check` is judged exactly as `/v1/verify` judges a request from
//! Envoy: the request is what `attributes.request.http` reports (method,
//! scheme, host with port, path with query, headers, and the body when
//! Envoy's `with_request_body` is on), believed only from a connection
//! whose peer is in `trusted_proxies` (otherwise the call is judged as
//! itself, a `POST` of the `Check` path at the public URL); then the one
//! decision of `forward_auth::decide`. Its HTTP answer becomes the
//! `CheckResponse`: 200 an `OkHttpResponse` whose headers (the `X-Auth-*`
//! ones) replace the upstream request's, with every other `X-Auth-*` header
//! of the client removed; anything else a `DeniedHttpResponse` with the
//! same status, headers (`WWW-Authenticate` on 401) and JSON body.

use crate::app::Shared;
use crate::error::{ApiCode, ApiError};
use crate::forward_auth::{
    configured, decide, forwarded_body, is_upstream_header, refused, AllowBody,
};
use crate::gateway::{CheckAttributes, Gateway};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use envoy_types::pb::envoy::config::core::v3::header_value_option::HeaderAppendAction;
use envoy_types::pb::envoy::config::core::v3::{HeaderValue, HeaderValueOption};
use envoy_types::pb::envoy::r#type::v3::HttpStatus;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use envoy_types::pb::envoy::service::auth::v3::authorization_server::{
    Authorization, AuthorizationServer,
};
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{
    CheckRequest, CheckResponse, DeniedHttpResponse, OkHttpResponse,
};
use envoy_types::pb::google::protobuf::BoolValue;
use envoy_types::pb::google::rpc::Status as RpcStatus;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Most headers one `Check` may report (Envoy's own default limit is 100).
const MAX_HEADERS: usize = 256;

/// Bytes a `Check` may carry beyond the body limit: headers and attributes.
const MESSAGE_OVERHEAD_BYTES: usize = 256 * 1024;

/// The gRPC service.
struct ExtAuthz {
    state: Shared,
}

#[tonic::async_trait]
impl Authorization for ExtAuthz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        let peer = request.remote_addr();
        let check = request.into_inner();
        let http = check
            .attributes
            .as_ref()
            .and_then(|a| a.request.as_ref())
            .and_then(|r| r.http.as_ref());
        let (answer, client) = match http {
            Some(http) => match header_map(http) {
                Ok(headers) => {
                    let answer = answer(&self.state, http, &headers, peer).await;
                    (answer.unwrap_or_else(IntoResponse::into_response), headers)
                }
                Err(e) => (e.into_response(), HeaderMap::new()),
            },
            None => (
                ApiError::bad_request("the CheckRequest has no attributes.request.http")
                    .into_response(),
                HeaderMap::new(),
            ),
        };
        Ok(tonic::Response::new(check_response(answer, &client).await))
    }
}

/// The forward-auth answer to one reported request.
async fn answer(
    state: &Shared,
    http: &HttpRequest,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> Result<Response, ApiError> {
    let fa = configured(state)?;
    let reported = CheckAttributes {
        method: &http.method,
        scheme: &http.scheme,
        host: &http.host,
        path: &http.path,
    };
    let request = fa.reader().read_check(&reported, peer).map_err(refused)?;
    // `raw_body` when Envoy packs the body as bytes, else `body`.
    let body = if http.raw_body.is_empty() {
        Bytes::copy_from_slice(http.body.as_bytes())
    } else {
        Bytes::copy_from_slice(&http.raw_body)
    };
    let body = if body.len() > state.config.max_body_bytes {
        Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiCode::PayloadTooLarge,
            "the request body is larger than allowed (max_body_bytes)",
        ))
    } else {
        Ok(forwarded_body(Some(Gateway::Envoy), body))
    };
    decide(state, fa, &request, headers, body, AllowBody::Empty).await
}

/// The reported headers (`headers`, and `header_map` when Envoy encodes
/// raw headers), pseudo-headers left out. One that is not a valid HTTP
/// header is refused rather than dropped (it may be the credential).
fn header_map(http: &HttpRequest) -> Result<HeaderMap, ApiError> {
    let raw = http.header_map.as_ref().map_or(&[][..], |m| &m.headers[..]);
    if http.headers.len() + raw.len() > MAX_HEADERS {
        return Err(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiCode::InvalidRequest,
            "the CheckRequest reports too many headers",
        ));
    }
    let mut map = HeaderMap::with_capacity(http.headers.len() + raw.len());
    let pairs = http
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .chain(raw.iter().map(|h| {
            let value = if h.raw_value.is_empty() {
                h.value.as_bytes()
            } else {
                &h.raw_value[..]
            };
            (h.key.as_str(), value)
        }));
    for (name, value) in pairs {
        if name.starts_with(':') {
            continue;
        }
        let bad = || ApiError::bad_request("a header the CheckRequest reports is not valid HTTP");
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let value = axum::http::HeaderValue::from_bytes(value).map_err(|_| bad())?;
        map.append(name, value);
    }
    Ok(map)
}

/// The gRPC code that goes with a denial's HTTP status.
fn rpc_code(status: StatusCode) -> tonic::Code {
    match status.as_u16() {
        401 => tonic::Code::Unauthenticated,
        403 => tonic::Code::PermissionDenied,
        429 => tonic::Code::ResourceExhausted,
        s if s >= 500 => tonic::Code::Unavailable,
        _ => tonic::Code::InvalidArgument,
    }
}

/// One header as Envoy's `HeaderValueOption`, replacing any header of the
/// same name (`append` false, `OVERWRITE_IF_EXISTS_OR_ADD`).
fn header_option(name: &HeaderName, value: &axum::http::HeaderValue) -> HeaderValueOption {
    let (value, raw_value) = match value.to_str() {
        Ok(v) => (v.to_owned(), Vec::new()),
        Err(_) => (String::new(), value.as_bytes().to_vec()),
    };
    #[allow(deprecated)]
    HeaderValueOption {
        header: Some(HeaderValue {
            key: name.as_str().to_owned(),
            value,
            raw_value,
        }),
        append: Some(BoolValue { value: false }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..HeaderValueOption::default()
    }
}

/// Largest answer body turned into a `DeniedHttpResponse` body (the
/// server's own JSON errors are far smaller).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The `CheckResponse` for a forward-auth answer; `client` are the headers
/// the client sent (its `X-Auth-*` copies are removed on an allow).
async fn check_response(answer: Response, client: &HeaderMap) -> CheckResponse {
    let (parts, body) = answer.into_parts();
    if parts.status == StatusCode::OK {
        let headers = parts
            .headers
            .iter()
            .filter(|(n, _)| is_upstream_header(n))
            .map(|(n, v)| header_option(n, v))
            .collect();
        let headers_to_remove = client
            .keys()
            .filter(|n| is_upstream_header(n) && !parts.headers.contains_key(*n))
            .map(|n| n.as_str().to_owned())
            .collect();
        return CheckResponse {
            status: Some(RpcStatus {
                code: tonic::Code::Ok as i32,
                ..RpcStatus::default()
            }),
            http_response: Some(HttpResponse::OkResponse(OkHttpResponse {
                headers,
                headers_to_remove,
                ..OkHttpResponse::default()
            })),
            ..CheckResponse::default()
        };
    }
    let body = axum::body::to_bytes(body, MAX_ANSWER_BYTES)
        .await
        .unwrap_or_default();
    CheckResponse {
        status: Some(RpcStatus {
            code: rpc_code(parts.status) as i32,
            ..RpcStatus::default()
        }),
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            status: Some(HttpStatus {
                code: i32::from(parts.status.as_u16()),
            }),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| header_option(n, v))
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        })),
        ..CheckResponse::default()
    }
}

/// Serves the `Check` service on `listener` until `shutdown` resolves;
/// calls in flight then get `grace` to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Shared,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) {
    let limit = state
        .config
        .max_body_bytes
        .saturating_add(MESSAGE_OVERHEAD_BYTES);
    // As `request_timeout_seconds` bounds an HTTP request: a call past it
    // ends with DEADLINE_EXCEEDED (Envoy then denies, failure_mode_allow
    // being off).
    let timeout = Duration::from_secs(state.config.request_timeout_seconds.max(1));
    let service = AuthorizationServer::new(ExtAuthz { state }).max_decoding_message_size(limit);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .timeout(timeout)
        .add_service(service)
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            async {
                let _ = stop_rx.await;
            },
        );
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => {
            if let Err(e) = r {
                tracing::error!(error = %e, "the ext_authz gRPC service stopped");
            }
            return;
        }
        () = shutdown => {}
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(Err(e)) => tracing::warn!(error = %e, "ext_authz gRPC service shutdown"),
        Ok(Ok(())) => tracing::info!("ext_authz gRPC service stopped"),
        Err(_) => tracing::warn!(
            grace_seconds = grace.as_secs(),
            "shutdown grace elapsed; dropping the remaining gRPC calls"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_map_to_grpc_codes() {
        assert_eq!(
            rpc_code(StatusCode::UNAUTHORIZED),
            tonic::Code::Unauthenticated
        );
        assert_eq!(
            rpc_code(StatusCode::FORBIDDEN),
            tonic::Code::PermissionDenied
        );
        assert_eq!(
            rpc_code(StatusCode::BAD_REQUEST),
            tonic::Code::InvalidArgument
        );
        assert_eq!(
            rpc_code(StatusCode::SERVICE_UNAVAILABLE),
            tonic::Code::Unavailable
        );
    }

    #[test]
    fn reported_headers_are_read_and_bad_ones_refused() {
        let mut http = HttpRequest::default();
        http.headers
            .insert(":authority".into(), "api.example".into());
        http.headers
            .insert("authorization".into(), "Bearer x".into());
        let map = header_map(&http).unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map["authorization"], "Bearer x");
        http.headers.insert("x-bad".into(), "a\nb".into());
        assert_eq!(
            header_map(&http).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        http.headers.remove("x-bad");
        for i in 0..MAX_HEADERS {
            http.headers.insert(format!("x-{i}"), "v".into());
        }
        assert_eq!(
            header_map(&http).unwrap_err().status,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
    }
}
