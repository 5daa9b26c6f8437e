//! Cursor pagination as WeCom does it: each page answers the cursor of the next one (`next_cursor`,
//! `new_next_cursor` ...), empty after the last. One pager for every area's streams, so that each
//! stops the same way: after the first error, and with an error (never a loop) when a server
//! answers the cursor it was given.

use std::future::Future;

use futures_util::stream::{self, Stream};

use crate::{DecodeError, Error};

/// Follows a cursor from page to page: `fetch(cursor)` reads one page, `next(page)` is its next
/// cursor (`None` or empty after the last page). The stream ends after the first error; a
/// server answering the cursor it was given is an error too, so the stream never loops.
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
/// # async fn page(_: &wecom_core_auth::Client, _: Option<String>) -> Result<(Vec<String>, Option<String>), wecom_core_auth::Error> { Ok((Vec::new(), None)) }
/// let pages = wecom_core_auth::paging::cursor_pages("user_list_id", |cursor| page(client, cursor), |p: &(Vec<String>, Option<String>)| p.1.clone());
/// let all: Vec<_> = pages.try_collect().await?;
/// # let _ = all; Ok(()) }
/// ```
pub fn cursor_pages<'a, T, F, Fut>(
    endpoint: &'static str,
    fetch: F,
    next: fn(&T) -> Option<String>,
) -> impl Stream<Item = Result<T, Error>> + Send + 'a
where
    T: Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, Error>> + Send + 'a,
{
    struct Pager<F> {
        fetch: F,
        cursor: Option<String>,
        done: bool,
    }
    let pager = Pager {
        fetch,
        cursor: None,
        done: false,
    };
    stream::unfold(pager, move |mut p| async move {
        if p.done {
            return None;
        }
        match (p.fetch)(p.cursor.clone()).await {
            Ok(page) => {
                match next(&page).filter(|c| !c.is_empty()) {
                    Some(c) if p.cursor.as_deref() == Some(c.as_str()) => {
                        p.done = true;
                        let e = DecodeError::new(
                            format!(
                                "{endpoint} answered the cursor it was given ({c:?}); stopping instead of looping"
                            ),
                            b"",
                        );
                        return Some((
                            Err(Error::Decode {
                                endpoint,
                                source: e,
                            }),
                            p,
                        ));
                    }
                    Some(c) => p.cursor = Some(c),
                    None => p.done = true,
                }
                Some((Ok(page), p))
            }
            Err(e) => {
                p.done = true;
                Some((Err(e), p))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    /// The stream's items (errors as text) and the cursors each request was given.
    type Outcome = (Vec<Result<Option<String>, String>>, Vec<Option<String>>);

    fn run(answers: Vec<Option<&'static str>>) -> Outcome {
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&asked);
        let mut answers = answers.into_iter();
        let pages = cursor_pages(
            "demo",
            move |cursor: Option<String>| {
                log.lock().unwrap().push(cursor);
                let next = answers.next().flatten().map(str::to_owned);
                async move { Ok::<_, Error>(next) }
            },
            |page: &Option<String>| page.clone(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt
            .block_on(pages.collect::<Vec<_>>())
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        let asked = asked.lock().unwrap().clone();
        (got, asked)
    }

    #[test]
    fn follows_the_cursor_to_an_empty_one() {
        let (got, asked) = run(vec![Some("a"), Some("b"), Some("")]);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(Result::is_ok));
        assert_eq!(asked, vec![None, Some("a".into()), Some("b".into())]);
    }

    #[test]
    fn a_cursor_answered_back_is_an_error_not_a_loop() {
        let (got, asked) = run(vec![Some("a"), Some("a"), Some("b")]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[1]
                .as_ref()
                .is_err_and(|e| e.contains("answered the cursor it was given"))
        );
        assert_eq!(asked.len(), 2, "no request after the repeated cursor");
    }
}
