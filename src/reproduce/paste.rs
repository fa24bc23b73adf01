//! Reading what a merchant's logs hold about a production request: a V1 request URL (its query
//! carries every parameter and the `authToken`), a V2 URL with its JSON body on the lines that
//! follow, or a `curl` command (`-d`/`--data*` for the body, `-X`, `-H`, `--url`). Pure text
//! work: nothing here signs or sends.

use crate::protocol::encoding::{PlusHandling, decode_component};

/// A pasted request, as far as its text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pasted {
    /// The URL, query included.
    pub(crate) url: String,
    /// The body, when one was given.
    pub(crate) body: Option<String>,
}

/// Why a paste cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasteError {
    /// Nothing was pasted.
    #[error(
        "the request is empty: paste a request URL, a URL and its JSON body, or a curl command"
    )]
    Empty,
    /// No `http://` or `https://` URL.
    #[error("no http:// or https:// URL in the request (got `{0}`)")]
    NoUrl(String),
    /// A quote of a curl command was never closed.
    #[error("the curl command has an unclosed {0} quote")]
    UnclosedQuote(char),
    /// A query component does not decode.
    #[error("the query does not decode: {0}")]
    Query(String),
    /// Neither a V1 query nor a V2 body names an activity.
    #[error(
        "no `activity`: a V1 request names it in the query (`?activity=newInstance&…`), a V2 request in its JSON body"
    )]
    NoActivity,
    /// The body is not JSON.
    #[error("the body is not JSON: {0}")]
    BodyNotJson(String),
    /// The parameters are not a request of the protocol.
    #[error("not a valid {protocol} request: {why}")]
    Invalid {
        /// V1 or V2.
        protocol: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// Splits a shell command line into words: single quotes keep everything, double quotes
/// keep all but `\"` and `\\`, a backslash outside quotes escapes the next character (a
/// backslash-newline continues the line).
fn shell_words(text: &str) -> Result<Vec<String>, PasteError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(PasteError::UnclosedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(PasteError::UnclosedQuote('"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(PasteError::UnclosedQuote('"')),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
            },
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn is_url(word: &str) -> bool {
    word.starts_with("http://") || word.starts_with("https://")
}

/// A curl command's URL and body.
fn curl(text: &str) -> Result<Pasted, PasteError> {
    let words = shell_words(text)?;
    let mut url = None;
    let mut body: Option<String> = None;
    let mut words = words.into_iter().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii" => {
                let data = words.next().unwrap_or_default();
                body = Some(match body {
                    Some(earlier) => format!("{earlier}&{data}"),
                    None => data,
                });
            }
            "--url" => url = words.next(),
            // Flags with a value that says nothing about the request's content.
            "-X" | "--request" | "-H" | "--header" | "-u" | "--user" | "-o" | "--output" | "-m"
            | "--max-time" | "--connect-timeout" | "-A" | "--user-agent" => {
                words.next();
            }
            other if is_url(other) && url.is_none() => url = Some(other.to_owned()),
            _ => {}
        }
    }
    let url = url.ok_or_else(|| PasteError::NoUrl(clip(text)))?;
    Ok(Pasted { url, body })
}

fn clip(text: &str) -> String {
    let mut clipped: String = text.chars().take(60).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

/// Reads a paste: a curl command, or a URL (optionally after `GET`/`POST`) whose following
/// lines are its body.
pub(crate) fn read(text: &str) -> Result<Pasted, PasteError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PasteError::Empty);
    }
    if text.starts_with("curl ") || text.starts_with("curl\t") {
        return curl(text);
    }
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let mut words = first.split_whitespace();
    let url = words
        .find(|w| is_url(w))
        .ok_or_else(|| PasteError::NoUrl(clip(first)))?;
    let body = rest.trim();
    Ok(Pasted {
        url: url.to_owned(),
        body: (!body.is_empty()).then(|| body.to_owned()),
    })
}

/// The URL's query decoded, `+` kept as `+` (KooGallery encodes a space as `%20`, so a `+`
/// in a logged URL is a Base64 character).
pub(crate) fn query_params(url: &str) -> Result<Vec<(String, String)>, PasteError> {
    let Some((_, query)) = url.split_once('?') else {
        return Ok(Vec::new());
    };
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |part: &str| {
                decode_component(part, PlusHandling::Literal)
                    .map_err(|e| PasteError::Query(e.to_string()))
            };
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_url_a_url_with_a_body_and_a_curl_command() {
        let plain = read("  https://m.example.com/produce?activity=newInstance&a=1 \n").unwrap();
        assert_eq!(
            plain.url,
            "https://m.example.com/produce?activity=newInstance&a=1"
        );
        assert_eq!(plain.body, None);
        let v2 =
            read("POST https://m.example.com/p?x=1\n{\"activity\":\"newInstance\"}\n").unwrap();
        assert_eq!(v2.body.as_deref(), Some("{\"activity\":\"newInstance\"}"));
        let command = "curl -X POST 'https://m.example.com/p?signature=s' \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{\"activity\":\"refreshInstance\",\"note\":\"it'\\''s\"}'";
        let pasted = read(command).unwrap();
        assert_eq!(pasted.url, "https://m.example.com/p?signature=s");
        assert_eq!(
            pasted.body.as_deref(),
            Some("{\"activity\":\"refreshInstance\",\"note\":\"it's\"}")
        );
    }

    #[test]
    fn says_what_it_could_not_read() {
        assert_eq!(read("  "), Err(PasteError::Empty));
        assert!(matches!(
            read("GET /produce?activity=x"),
            Err(PasteError::NoUrl(_))
        ));
        assert_eq!(
            read("curl 'https://m.example.com/p"),
            Err(PasteError::UnclosedQuote('\''))
        );
    }

    #[test]
    fn decodes_the_query_keeping_plus_signs() {
        let params =
            query_params("https://m/p?authToken=a%2Bb%3D&email=x+y&name=%E5%BC%A0").unwrap();
        assert_eq!(
            params,
            [
                ("authToken".to_owned(), "a+b=".to_owned()),
                ("email".to_owned(), "x+y".to_owned()),
                ("name".to_owned(), "张".to_owned()),
            ]
        );
    }
}
