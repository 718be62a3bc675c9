#![allow(dead_code)]
//! Headless Chromium driven through chromedriver's WebDriver HTTP API, to
//! check that an HTML page loads with every image decoded, every in-page
//! link resolving, nothing outside the page referenced, and no errors in the browser console.
//!
//! Needs Debian's `chromium` and `chromium-driver` on PATH. Where they are
//! missing, [`Browser::start`] prints why and returns `None` so the test can
//! skip; with `NRUN_REQUIRE_BROWSER=1` it fails instead. WebDriver is spoken
//! as JSON over plain HTTP/1.1 on localhost, one connection per request.

use std::env;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A chromedriver process with one headless Chromium session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    // Chromium's fresh profile, removed after the browser is gone.
    profile: tempfile::TempDir,
}

/// What a loaded page showed.
#[derive(Debug)]
pub struct Page {
    pub title: String,
    pub lang: String,
    pub charset: String,
    pub images: Vec<Image>,
    /// In-page links (`href="#..."`), and those whose target id is missing.
    pub anchor_links: usize,
    pub dangling_links: Vec<String>,
    /// References to anything outside the page: `src`, `href` and `srcset`
    /// values other than `data:` URIs and `#` anchors, and `url()`s in
    /// style sheets other than `data:` ones.
    pub external: Vec<String>,
    /// SEVERE browser log entries: console errors, failed loads.
    pub errors: Vec<String>,
}

#[derive(Debug)]
pub struct Image {
    pub alt: String,
    pub width: u64,
    pub height: u64,
    /// Complete, with a natural size, and `decode()` resolved.
    pub loaded: bool,
}

/// Runs in the page once it has loaded; WebDriver awaits the promise.
const INSPECT: &str = r##"return (async () => {
  const images = Array.from(document.images);
  const decoded = await Promise.all(images.map(i => i.decode().then(() => true, () => false)));
  const links = Array.from(document.querySelectorAll('a[href^="#"]')).map(a => a.getAttribute('href'));
  return {
    title: document.title,
    lang: document.documentElement.lang,
    charset: document.characterSet,
    images: images.map((i, k) => ({
      alt: i.alt, width: i.naturalWidth, height: i.naturalHeight,
      loaded: i.complete && i.naturalWidth > 0 && decoded[k],
    })),
    anchorLinks: links.length,
    danglingLinks: links.filter(h => !document.getElementById(decodeURIComponent(h.slice(1)))),
    external: Array.from(document.querySelectorAll('[src], [href], [srcset]'))
      .flatMap(e => ['src', 'href', 'srcset'].map(a => e.getAttribute(a)))
      .filter(v => v !== null && !v.startsWith('data:') && !v.startsWith('#'))
      .concat(Array.from(document.styleSheets)
        .flatMap(s => Array.from(s.cssRules).map(r => r.cssText))
        .filter(t => /url\((?!"?data:)/.test(t))),
  };
})();"##;

impl Browser {
    /// Starts chromedriver and a headless Chromium session; `None`, with the
    /// reason printed, when either program is not installed.
    pub fn start() -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (on_path("chromium"), on_path("chromedriver"))
        else {
            let reason = "chromium and chromedriver are not both on PATH \
                          (apt-get install -y chromium chromium-driver)";
            assert!(env::var_os("NRUN_REQUIRE_BROWSER").is_none(), "{reason}");
            // Straight to stderr: the test harness captures eprintln! of a
            // passing test, and a skip should be seen.
            let _ = writeln!(std::io::stderr(), "skipping browser test: {reason}");
            return None;
        };
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("temporary profile directory");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            profile,
        };
        browser.wait_until_ready();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-crash-reporter",
            &format!("--user-data-dir={}", browser.profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"pageLoad": 30_000, "script": 30_000},
        }}});
        let session = browser.call("POST", "/session", Some(capabilities));
        browser.session = session["sessionId"]
            .as_str()
            .expect("new session has an id")
            .to_string();
        Some(browser)
    }

    /// Opens the HTML file at `path` and reports what it showed. The
    /// browser log is drained, so each call sees only its own page's errors.
    pub fn inspect(&self, path: &Path) -> Page {
        let url = format!(
            "file://{}",
            path.canonicalize().expect("page exists").display()
        );
        let session = format!("/session/{}", self.session);
        self.call(
            "POST",
            &format!("{session}/url"),
            Some(json!({ "url": url })),
        );
        let page = self.call(
            "POST",
            &format!("{session}/execute/sync"),
            Some(json!({"script": INSPECT, "args": []})),
        );
        let log = self.call(
            "POST",
            &format!("{session}/se/log"),
            Some(json!({"type": "browser"})),
        );
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let strings = |v: &Value| v.as_array().into_iter().flatten().map(text).collect();
        Page {
            title: text(&page["title"]),
            lang: text(&page["lang"]),
            charset: text(&page["charset"]),
            images: page["images"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| Image {
                    alt: text(&i["alt"]),
                    width: i["width"].as_u64().unwrap_or_default(),
                    height: i["height"].as_u64().unwrap_or_default(),
                    loaded: i["loaded"].as_bool().unwrap_or_default(),
                })
                .collect(),
            anchor_links: page["anchorLinks"].as_u64().unwrap_or_default() as usize,
            dangling_links: strings(&page["danglingLinks"]),
            external: strings(&page["external"]),
            errors: log
                .as_array()
                .into_iter()
                .flatten()
                .filter(|entry| entry["level"] == "SEVERE")
                .map(|entry| text(&entry["message"]))
                .collect(),
        }
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(exit) = self.driver.try_wait().expect("chromedriver status") {
                panic!("chromedriver exited at start: {exit}");
            }
            if let Ok(status) = self.try_call("GET", "/status", None)
                && status["ready"] == true
            {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        panic!("chromedriver not ready on port {} after 20 s", self.port);
    }

    /// Sends one WebDriver command; panics on an HTTP or WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// Sends one WebDriver command and returns its response's `value`.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map_or_else(String::new, |b| b.to_string());
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Content-Type: application/json; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let (status, response) = read_response(stream)?;
        let response: Value = serde_json::from_slice(&response).map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("HTTP {status}: {response}"));
        }
        Ok(response["value"].clone())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; the driver is then killed.
        if !self.session.is_empty() {
            let _ = self.try_call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Reads an HTTP/1.1 response: its status code and body. chromedriver keeps
/// the connection open after answering, so the body is read by its
/// Content-Length rather than to the end of the stream.
fn read_response(stream: TcpStream) -> Result<(u16, Vec<u8>), String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or("response without Content-Length")?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok((status, body))
}

fn on_path(program: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// A port that was free a moment ago, for chromedriver to listen on.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener.local_addr().expect("local address").port()
}
