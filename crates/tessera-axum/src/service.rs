//! The tower [`Layer`] and [`Service`] of [`TesseraLayer`].

use crate::{is_nostr, AuthRejection, Authenticated, RejectionCode, TesseraLayer};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

impl<S> Layer<S> for TesseraLayer {
    type Service = TesseraService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TesseraService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service made by [`TesseraLayer`].
#[derive(Clone, Debug)]
pub struct TesseraService<S> {
    layer: TesseraLayer,
    inner: S,
}

impl<S> Service<Request<Body>> for TesseraService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone is ready-polled later; keep the one that was polled.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            // A NIP-98 event binds the body (its `payload` tag): read it,
            // within the bound, and hand the same bytes on.
            let (result, body) = if is_nostr(&parts) {
                let bytes = match axum::body::to_bytes(body, layer.max_body).await {
                    Ok(b) => b,
                    Err(_) => {
                        return Ok(AuthRejection::other(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            RejectionCode::PayloadTooLarge,
                            "the request body is larger than allowed",
                        )
                        .into_response())
                    }
                };
                let result = layer.authenticate_with_body(&parts, &bytes).await;
                (result, Body::from(bytes))
            } else {
                (layer.authenticate(&parts).await, body)
            };
            match result {
                Ok(id) => {
                    parts.extensions.insert(Authenticated(id));
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
