//! What the 2026-07-28 wire asks of the proxy beyond sending the host's messages: the
//! bridge for a host of the session era (answering `initialize` from `server/discover`,
//! asking the host for a server's `input_required`, keeping a `subscriptions/listen`
//! stream), re-issuing a request whose stream broke, learning and re-learning the tools'
//! header marks, and splitting a batch. Requests the proxy makes of its own go out under
//! ids of its own (`mcpauth-...`), and what they answer never reaches the host as such.

use futures_util::StreamExt;

use super::*;

impl Inner {
    /// 2026-07-28 has no batches: each message of a host's batch goes on its own, at
    /// once, and the answers go back to the host together, as one batch.
    pub(super) async fn split_batch(self: Arc<Self>, line: Bytes) {
        let Ok(items) = serde_json::from_slice::<Vec<Box<RawValue>>>(&line) else {
            return;
        };
        let answers: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let mut parts = JoinSet::new();
        for item in items {
            let part = Bytes::from(item.get().to_owned());
            let mut info = Info::of(&Peek::of(&part));
            info.batch = Some(Arc::clone(&answers));
            let me = Arc::clone(&self);
            parts.spawn(async move {
                let result = me.exchange(&part, &info, Sink::Host, &Sent::none()).await;
                me.settle(&info, result).await;
            });
        }
        while parts.join_next().await.is_some() {}
        let answers = std::mem::take(&mut *answers.lock().expect("batch lock"));
        if answers.is_empty() {
            return;
        }
        let mut batch = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 1);
        batch.push(b'[');
        for (i, answer) in answers.iter().enumerate() {
            if i > 0 {
                batch.push(b',');
            }
            batch.extend_from_slice(answer);
        }
        batch.push(b']');
        self.emit(Bytes::from(batch)).await;
    }

    /// Bridge: a host line that answers one of the proxy's questions goes to the task
    /// that asked it, not to the server.
    pub(super) fn answers_a_question(&self, line: &Bytes) -> bool {
        let peek = Peek::of(line);
        let [id] = peek.response_ids.as_slice() else {
            return false;
        };
        let Some(asker) = self.lock().questions.remove(&id_key(id)) else {
            return false;
        };
        if let Ok(answer) = serde_json::from_slice(line) {
            let _ = asker.send(answer);
        }
        true
    }

    /// Bridge: when the server answered `line` with `input_required`, puts each question
    /// to the host as the request it knows (`elicitation/create`, `sampling/createMessage`,
    /// `roots/list`), then sends the request again under a new id with the answers and
    /// the server's `requestState`. The final answer goes to the host under its own id.
    pub(super) async fn fulfil_input(
        self: &Arc<Self>,
        line: &Bytes,
        info: &Info,
    ) -> Result<(), Failure> {
        const ROUNDS: usize = 8;
        const ANSWER_WAIT: Duration = Duration::from_secs(600);
        let Some(host_id) = info.ids.first() else {
            return Ok(());
        };
        let mut asked = id_key(host_id);
        for round in 0..ROUNDS {
            let Some(held) = self.lock().input_required.remove(&asked) else {
                return Ok(());
            };
            let mut responses = serde_json::Map::new();
            for (key, question) in bridge::questions(&held) {
                let (tx, rx) = oneshot::channel();
                let qid = {
                    let mut state = self.lock();
                    state.questions_asked += 1;
                    let qid = format!("mcpauth-input-{}", state.questions_asked);
                    state.questions.insert(id_key(&raw_string(&qid)), tx);
                    qid
                };
                self.emit(bridge::question_line(&qid, &question)).await;
                let answer = tokio::time::timeout(ANSWER_WAIT, rx).await;
                self.lock().questions.remove(&id_key(&raw_string(&qid)));
                match answer {
                    Ok(Ok(answer)) if answer.get("result").is_some() => {
                        responses.insert(key, answer["result"].clone());
                    }
                    // The host declined or could not answer: that is its answer.
                    Ok(Ok(answer)) => {
                        let error = answer.get("error").cloned().unwrap_or_default();
                        let error = serde_json::value::to_raw_value(&error)
                            .map_err(|_| Failure::StreamLost)?;
                        self.answer(info, Bytes::from(error_with_id(host_id, &error)))
                            .await;
                        return Ok(());
                    }
                    _ => return Err(Failure::StreamLost),
                }
            }
            let fresh = format!("mcpauth-retry-{round}-{}", id_key(host_id));
            let Some(again) = bridge::with_input(line, &fresh, responses, &held) else {
                return Err(Failure::StreamLost);
            };
            let mut again_info = Info::of(&Peek::of(&again));
            again_info.answer_as = Some(host_id.clone());
            Box::pin(self.exchange(&again, &again_info, Sink::Host, &Sent::none())).await?;
            asked = id_key(&raw_string(&fresh));
        }
        Err(Failure::StreamLost)
    }

    /// Answers the host's `initialize` from the server's `server/discover`, and from now
    /// on sends the host's messages on the 2026 wire with the `_meta` they lack.
    pub(super) async fn start_bridge(
        self: &Arc<Self>,
        init_line: &Bytes,
        init: &Info,
        version: &str,
    ) -> Result<(), Failure> {
        let refused = || Failure::ModernOnly(version.to_owned());
        let Some(bridge) = Bridge::new(init_line, version) else {
            return Err(refused());
        };
        let discover = bridge.discover();
        let info = Info::of(&Peek::of(&discover));
        let answer = self.fetch(&discover, &info).await?;
        let [id] = init.ids.as_slice() else {
            return Err(refused());
        };
        match answer.get("result") {
            Some(result) => {
                self.emit(bridge.initialized(id, result)).await;
                bridge.announced(result.get("capabilities").unwrap_or_default());
                {
                    let mut state = self.lock();
                    state.mode = Mode::Stateless;
                    state.bridge = Some(Arc::new(bridge));
                }
                self.open_bridge_listener();
            }
            // The server's own refusal of discover is the host's answer.
            None => match answer.get("error") {
                Some(error) => {
                    let error = serde_json::value::to_raw_value(error).map_err(|_| refused())?;
                    self.emit(Bytes::from(error_with_id(id, &error))).await;
                }
                None => return Err(refused()),
            },
        }
        Ok(())
    }

    /// POSTs a message of the proxy's own (not the host's) on the 2026 wire.
    pub(super) async fn send_own(&self, line: &Bytes, info: &Info) -> Result<Response, Failure> {
        let make = |token: Option<&Secret>| {
            let mut headers = self.message_headers(token, None, None, info, true, &[]);
            headers.insert(CONTENT_LENGTH, HeaderValue::from(line.len()));
            self.client
                .post(self.url.clone())
                .headers(headers)
                .body(line.clone())
        };
        self.send(&make).await
    }

    /// POSTs one request of the proxy's own on the 2026 wire and returns its answer (a
    /// JSON body, or the event that answers it on a stream).
    pub(super) async fn fetch(
        &self,
        line: &Bytes,
        info: &Info,
    ) -> Result<serde_json::Value, Failure> {
        let resp = self.send_own(line, info).await?;
        let status = resp.status();
        if !is_event_stream(&resp) {
            let body = self.collect(resp).await?;
            return serde_json::from_slice(&body).map_err(|_| Failure::Status(status));
        }
        let mut parser = Parser::new(self.max_message);
        let mut body = resp.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            parser.push(&chunk);
            while let Some(event) = parser.next_event() {
                let Ok(event) = event else {
                    return Err(Failure::TooLarge(self.max_message));
                };
                let Ok(message) = serde_json::from_slice::<serde_json::Value>(&event.data) else {
                    continue;
                };
                if message.get("method").is_none() && message.get("id").is_some() {
                    return Ok(message);
                }
            }
        }
        Err(Failure::StreamLost)
    }

    /// 2026-07-28: an answer stream that broke loses its request; it is sent once more
    /// under a new id (the server may still be working on the old one), and its answer
    /// goes back to the host under the host's id.
    pub(super) async fn reissue(
        self: &Arc<Self>,
        line: &Bytes,
        info: &Info,
        sent: &Sent,
    ) -> Result<(), Failure> {
        let ([id], false) = (info.ids.as_slice(), Peek::of(line).batch) else {
            return Err(Failure::StreamBroken);
        };
        let Ok(mut request) =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line)
        else {
            return Err(Failure::StreamBroken);
        };
        let n = self.lock().generation;
        let fresh = format!("mcpauth-reissued-{n}-{}", id_key(id));
        request.insert("id".into(), serde_json::Value::String(fresh));
        let line = Bytes::from(serde_json::to_vec(&request).expect("a map serializes"));
        let mut again = Info::of(&Peek::of(&line));
        again.answer_as = Some(id.clone());
        tracing::info!(server = %self.server, "the answer stream broke; sending the request again under a new id");
        Box::pin(self.exchange(&line, &again, Sink::Host, sent)).await
    }

    /// Lists the server's tools again, every page, for their header marks; the answers go
    /// nowhere but [`Self::learn_mirrors`]. Failures are left to the resent call to show.
    pub(super) async fn relist(self: &Arc<Self>, call: &[u8]) {
        const MAX_PAGES: usize = 32;
        self.lock().tools_cursor = None;
        // The host's `_meta` goes on the proxy's own requests too.
        let meta = Peek::of(call).meta.map_or("{}", |m| m.get()).to_owned();
        for page in 0..MAX_PAGES {
            let cursor = self.lock().tools_cursor.take();
            if page > 0 && cursor.is_none() {
                return;
            }
            let cursor = cursor
                .map(|c| format!(",\"cursor\":{}", serde_json::Value::String(c)))
                .unwrap_or_default();
            let id = format!("\"mcpauth-relist-{page}\"");
            let line = Bytes::from(format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/list\",\"params\":{{\"_meta\":{meta}{cursor}}}}}"
            ));
            let info = Info::of(&Peek::of(&line));
            if Box::pin(self.exchange(&line, &info, Sink::Swallow, &Sent::none()))
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// Notes what each tool of a `tools/list` answer mirrors into headers (SEP-2243), and
    /// takes out the tools whose marks are invalid: a client must not call them. An
    /// answer with none of those goes on byte for byte.
    pub(super) fn learn_mirrors(&self, message: Bytes) -> Bytes {
        let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&message) else {
            return message;
        };
        let Some(result) = answer.get("result") else {
            return message;
        };
        let (mirrors, invalid) = headers::scan(result);
        {
            let mut state = self.lock();
            state.tools_cursor = result
                .get("nextCursor")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            for name in result
                .get("tools")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("name").and_then(serde_json::Value::as_str))
            {
                state.mirrors.remove(name);
            }
            state.mirrors.extend(mirrors);
        }
        if invalid.is_empty() {
            return message;
        }
        tracing::warn!(
            server = %self.server,
            "left out {} tool(s) whose x-mcp-header marks are invalid: {}",
            invalid.len(),
            crate::escape::controls(&invalid.join(", "))
        );
        headers::without(&message, &invalid).unwrap_or(message)
    }

    /// Bridge: (re)opens the `subscriptions/listen` stream with the current filter, in
    /// place of the one before.
    pub(super) fn open_bridge_listener(self: &Arc<Self>) {
        let task = tokio::spawn(Arc::clone(self).listen_for_bridge());
        self.replace_listener(task.abort_handle());
    }

    /// Bridge: keeps a `subscriptions/listen` stream open and passes the notifications on
    /// it to the host (but the acknowledgement, which a host of the session era does not
    /// know). Reopens it, backing off, when it ends.
    pub(super) async fn listen_for_bridge(self: Arc<Self>) {
        let mut failures: u32 = 0;
        for n in 0.. {
            let Some(bridge) = self.lock().bridge.clone() else {
                return;
            };
            let Some(line) = bridge.listen(n) else { return };
            let info = Info::of(&Peek::of(&line));
            let mut parser = Parser::new(self.max_message);
            match self.send_own(&line, &info).await {
                Ok(resp) if resp.status().is_success() => {
                    let mut body = resp.bytes_stream();
                    while let Some(Ok(chunk)) = body.next().await {
                        parser.push(&chunk);
                        while let Some(event) = parser.next_event() {
                            let Ok(event) = event else {
                                self.dropped_oversized();
                                continue;
                            };
                            let peek = Peek::of(&event.data);
                            let passed = peek.jsonrpc
                                && peek.response_ids.is_empty()
                                && !peek.method_is("notifications/subscriptions/acknowledged");
                            drop(peek);
                            if passed {
                                failures = 0;
                                self.emit(event.data).await;
                            }
                        }
                    }
                }
                Ok(resp) => {
                    tracing::debug!(server = %self.server, status = %resp.status(), "subscriptions/listen refused");
                    return;
                }
                Err(_) => {}
            }
            failures += 1;
            tokio::time::sleep(reconnect_delay(parser.retry_ms, failures)).await;
        }
    }
}
