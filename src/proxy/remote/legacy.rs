//! The legacy HTTP+SSE transport (2024-11-05): a GET event stream that names, in its
//! `endpoint` event, where to POST messages; answers come back on the stream.

use futures_util::future::BoxFuture;

use super::*;

impl Inner {
    /// Opens the event stream and waits for the `endpoint` event; the rest of the
    /// stream is read by a background task.
    pub(super) async fn connect_legacy(self: &Arc<Self>) -> Result<(), Failure> {
        let resp = self.get_stream(None).await?;
        if !resp.status().is_success() {
            return Err(Failure::Status(resp.status()));
        }
        let mut body = resp.bytes_stream();
        let mut parser = Parser::new(self.max_message);
        let found = tokio::time::timeout(ENDPOINT_WAIT, async {
            while let Some(Ok(chunk)) = body.next().await {
                parser.push(&chunk);
                while let Some(event) = parser.next_event() {
                    match event {
                        Ok(event) if event.event == "endpoint" => return Some(event.data),
                        Ok(_) => {}
                        Err(Oversized) => self.dropped_oversized(),
                    }
                }
            }
            None
        })
        .await;
        let Ok(Some(data)) = found else {
            return Err(Failure::StreamLost);
        };
        let target = String::from_utf8_lossy(&data);
        let endpoint = self.url.join(target.trim()).map_err(|_| {
            Failure::Unreachable(format!("bad message endpoint `{}`", target.trim()))
        })?;
        // The token must only go where it was issued for.
        if endpoint.origin() != self.url.origin() {
            return Err(Failure::Unreachable(format!(
                "the message endpoint `{endpoint}` is on another origin"
            )));
        }
        self.lock().mode = Mode::Legacy { endpoint };
        let task = tokio::spawn(Arc::clone(self).legacy_read(body.boxed(), parser));
        self.replace_listener(task.abort_handle());
        Ok(())
    }

    /// Boxed with a named `Send` type: it reconnects through [`Self::connect_legacy`],
    /// which spawns it again, and the compiler cannot see through that cycle otherwise.
    pub(super) fn legacy_read(
        self: Arc<Self>,
        mut body: BoxStream<'static, reqwest::Result<Bytes>>,
        mut parser: Parser,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            loop {
                // Events already buffered after the endpoint event come first.
                while let Some(event) = parser.next_event() {
                    match event {
                        Ok(event) => self.legacy_event(event).await,
                        Err(Oversized) => self.dropped_oversized(),
                    }
                }
                match body.next().await {
                    Some(Ok(chunk)) => parser.push(&chunk),
                    _ => break,
                }
            }
            tracing::info!(server = %self.server, "event stream closed; reconnecting");
            // Requests in flight lost their answers with the stream.
            let lost: Vec<Box<RawValue>> = {
                let mut state = self.lock();
                state.legacy_pending.drain().map(|(_, id)| id).collect()
            };
            let message = Failure::StreamLost.message(&self.server);
            for id in lost {
                self.emit(Bytes::from(error_response(&id, TRANSPORT_ERROR, &message)))
                    .await;
            }
            let mut failures: u32 = 0;
            loop {
                let delay = (DEFAULT_RETRY * 2u32.pow(failures.min(5))).min(MAX_RETRY);
                tokio::time::sleep(delay).await;
                if self.connect_legacy().await.is_ok() {
                    break;
                }
                failures += 1;
            }
            // A new stream is a new session: replay the host's handshake, answers hidden.
            let (init, initialized) = {
                let state = self.lock();
                (state.init_line.clone(), state.initialized_line.clone())
            };
            for line in [init, initialized].into_iter().flatten() {
                let info = Info::of(&Peek::of(&line));
                let _ = self.legacy_post(&line, &info, Sink::Swallow).await;
            }
        })
    }

    pub(super) async fn legacy_event(&self, event: crate::proxy::sse::Event) {
        if event.event != "message" || event.data.is_empty() {
            return;
        }
        let swallowed = {
            let peek = Peek::of(&event.data);
            if !peek.jsonrpc {
                return;
            }
            let mut state = self.lock();
            let mut swallowed = false;
            for id in &peek.response_ids {
                let key = id_key(id);
                state.legacy_pending.remove(&key);
                swallowed |= state.swallow.remove(&key);
            }
            if let Some(version) = &peek.result_version {
                state.protocol_version = Some(version.clone());
            }
            swallowed
        };
        if !swallowed {
            self.emit(event.data).await;
        }
    }

    /// POSTs a line to the legacy message endpoint; answers come on the event stream.
    pub(super) async fn legacy_post(
        &self,
        line: &Bytes,
        info: &Info,
        sink: Sink,
    ) -> Result<(), Failure> {
        let endpoint = match self.mode() {
            Mode::Legacy { endpoint } => endpoint,
            _ => return Err(Failure::StreamLost),
        };
        let keys: Vec<String> = info.ids.iter().map(|id| id_key(id)).collect();
        {
            let mut state = self.lock();
            for (key, id) in keys.iter().zip(&info.ids) {
                match sink {
                    Sink::Host => {
                        state.legacy_pending.insert(key.clone(), id.clone());
                    }
                    Sink::Swallow => {
                        state.swallow.insert(key.clone());
                    }
                }
            }
        }
        let make = |token: Option<&Secret>| {
            let mut headers = self.base_headers(token);
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            self.client
                .post(endpoint.clone())
                .headers(headers)
                .body(line.clone())
        };
        let result = match self.send(&make).await {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(Failure::Status(resp.status())),
            Err(failure) => Err(failure),
        };
        if result.is_err() {
            let mut state = self.lock();
            for key in &keys {
                state.legacy_pending.remove(key);
                state.swallow.remove(key);
            }
        }
        result
    }
}
