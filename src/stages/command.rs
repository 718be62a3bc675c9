//! `command`: runs a shell command, like a DVC stage.
//!
//! The command sees its output folder as `{out}` (and `$NRUN_OUT`), its work
//! area as `{work}`, and each input as `{in.NAME}` (and `$NRUN_IN_NAME`); an
//! aggregated input expands to all its folders, space-separated. Stage
//! params are interpolated with `${...}` before the command exists, so the
//! cache key covers them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Context, Input, InputSpec, Output, ParamError, StageError, StageKind, Wiring};

pub struct Command;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The shell command (run by `sh -ec` in the directory nrun runs in).
    run: String,
    /// Extra environment variables.
    #[serde(default)]
    env: BTreeMap<String, Json>,
}

impl StageKind for Command {
    type Params = Params;
    const NAME: &'static str = "command";
    const VERSION: u32 = 1;
    const INPUTS: Option<&'static [InputSpec]> = None;
    const OUTPUT: Output = Output::Files;

    fn validate(params: &Params) -> Result<(), ParamError> {
        if params.run.trim().is_empty() {
            return Err(ParamError::at("run", "the command is empty"));
        }
        for (k, v) in &params.env {
            if matches!(v, Json::Array(_) | Json::Object(_)) {
                return Err(ParamError::at(
                    &format!("env.{k}"),
                    "environment values are scalars",
                ));
            }
        }
        Ok(())
    }

    /// A `{in.NAME}` without an input `NAME` would reach the shell as
    /// written; it is a mistake in the pipeline, caught before anything runs.
    fn validate_inputs(params: &Params, inputs: &Wiring) -> Result<(), ParamError> {
        if let Some((name, meant)) = near_placeholder(&params.run, inputs) {
            return Err(ParamError::at(
                "run",
                format!(
                    "`{{{name}}}` is not a placeholder (`{{out}}`, `{{work}}`, `{{in.NAME}}`); did you mean `{{{meant}}}`?"
                ),
            ));
        }
        let mut rest = params.run.as_str();
        while let Some(at) = rest.find("{in.") {
            let tail = &rest[at + "{in.".len()..];
            let Some(close) = tail.find('}') else { break };
            let name = &tail[..close];
            if !inputs.has(name) {
                return Err(ParamError::at(
                    "run",
                    format!(
                        "`{{in.{name}}}` names no input of this stage ({})",
                        inputs.note()
                    ),
                ));
            }
            rest = &tail[close..];
        }
        Ok(())
    }

    fn run(&self, params: Params, ctx: &mut Context) -> Result<(), StageError> {
        let script = expand(&params.run, ctx);
        ctx.log(format!("$ {script}"));
        // `-e`: a failing line fails the stage instead of being masked by
        // the lines after it.
        let mut cmd = Process::new("sh");
        cmd.arg("-ec")
            .arg(&script)
            .stdin(Stdio::null())
            .stdout(ctx.log_file().map_err(StageError::write(&ctx.log_path))?)
            .stderr(ctx.log_file().map_err(StageError::write(&ctx.log_path))?)
            .env("NRUN_OUT", &ctx.out)
            .env("NRUN_WORK", &ctx.work)
            .env("NRUN_CELL", ctx.cell.to_json().to_string());
        for (name, input) in &ctx.inputs {
            cmd.env(
                format!("NRUN_IN_{}", env_name(name)),
                paths(input, "\n", false),
            );
        }
        for (k, v) in &params.env {
            cmd.env(k, crate::canon::label(v));
        }
        if let Some(slot) = &ctx.gpu {
            cmd.env("CUDA_VISIBLE_DEVICES", &slot.id);
        }
        // Where this attempt's lines start in the log, which earlier
        // attempts may have written.
        let logged = std::fs::metadata(&ctx.log_path).map_or(0, |m| m.len());
        let mut child = cmd
            .spawn()
            .map_err(|e| StageError::Command(format!("cannot start `sh`: {e}")))?;
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| StageError::Command(format!("waiting for the command: {e}")))?
            {
                if status.success() {
                    return Ok(());
                }
                let how = match status.code() {
                    Some(code) => format!("exit code {code}"),
                    None => "a signal".to_string(),
                };
                let said = last_line(&ctx.log_path, logged)
                    .map(|line| format!(": {line}"))
                    .unwrap_or_default();
                return Err(StageError::Command(format!(
                    "command failed with {how}{said}"
                )));
            }
            if let Err(stopped) = ctx.check_cancel() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(stopped);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A `{name}` standing as a shell word (`cp x {outt}`, `> {ot}`,
/// `{outt}/x`) that reads like a misspelt placeholder, which would reach
/// the shell as written, with the placeholder meant: `{out}`, `{work}`, or
/// `{in.NAME}` for `{in_NAME}`. Other braces (shell `${VAR}` and `{a,b}`,
/// awk's `{print $1}`, jq's `{out: 1}`, a quoted Python format string, a
/// name the script assigns) are the command's own.
fn near_placeholder(script: &str, inputs: &Wiring) -> Option<(String, String)> {
    let mut rest = script;
    while let Some(open) = rest.find('{') {
        let before = rest[..open].chars().next_back();
        let tail = &rest[open + 1..];
        let close = tail.find('}')?;
        let name = &tail[..close];
        let after = tail[close + 1..].chars().next();
        let starts_word = before.is_none_or(|c| c.is_whitespace() || "=<>".contains(c));
        let ends_word = after.is_none_or(|c| c.is_whitespace() || ";|&/.".contains(c));
        let word = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            && name
                .chars()
                .next_back()
                .is_some_and(|c| !c.is_ascii_digit())
            && !script.contains(&format!("{name}="));
        let meant = match ["in_", "in-"].iter().find_map(|p| name.strip_prefix(p)) {
            Some(input) => {
                crate::suggest::closest(input, inputs.names()).map(|n| format!("in.{n}"))
            }
            None => ["out", "work"]
                .into_iter()
                .find(|p| *p != name && strsim::damerau_levenshtein(p, name) <= 1)
                .map(str::to_string),
        };
        if let Some(meant) = meant.filter(|_| starts_word && ends_word && word) {
            return Some((name.to_string(), meant));
        }
        rest = tail;
    }
    None
}

/// The last line `log` holds past its first `from` bytes, shortened: what
/// a failed command said last, most often why.
fn last_line(log: &Path, from: u64) -> Option<String> {
    use std::io::{Read as _, Seek as _};
    // A chatty command's log can be large: its end is enough.
    const END: u64 = 64 * 1024;
    let mut file = std::fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(std::io::SeekFrom::Start(from.max(len.saturating_sub(END))))
        .ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let said = String::from_utf8_lossy(&bytes).into_owned();
    let line = said.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    Some(match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    })
}

/// Replaces `{out}`, `{work}` and `{in.NAME}`; other braces stay as written.
fn expand(script: &str, ctx: &Context) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let close = tail.find('}');
        let replaced = close.and_then(|close| {
            let name = &tail[1..close];
            let value = match name {
                "out" => Some(quote(&ctx.out)),
                "work" => Some(quote(&ctx.work)),
                _ => name
                    .strip_prefix("in.")
                    .and_then(|n| ctx.inputs.get(n))
                    .map(|input| paths(input, " ", true)),
            };
            value.map(|v| (v, close))
        });
        match replaced {
            Some((value, close)) => {
                out.push_str(&value);
                rest = &tail[close + 1..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The folders behind an input, shell-quoted for a command line or raw for
/// an environment variable.
fn paths(input: &Input, sep: &str, quoted: bool) -> String {
    let show = |p: &Path| {
        if quoted {
            quote(p)
        } else {
            p.to_string_lossy().into_owned()
        }
    };
    match input {
        Input::Path(p) => show(p),
        Input::Stage(ups) => ups
            .iter()
            .map(|u| show(&u.dir))
            .collect::<Vec<_>>()
            .join(sep),
    }
}

/// Single-quotes a path for `sh`.
fn quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    if s.chars()
        .all(|c| c.is_alphanumeric() || "/._-=,+".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_placeholder_is_found_and_the_shells_braces_are_not() {
        let inputs = Wiring(vec![super::super::Wired {
            name: "model".into(),
            params: None,
            output: None,
            metrics: None,
            shape: None,
        }]);
        let found = |script: &str| near_placeholder(script, &inputs);
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(found("cp x {outt}/y"), pair("outt", "out"));
        assert_eq!(found("cp x {outt}"), pair("outt", "out"));
        assert_eq!(found("date >{ot}"), pair("ot", "out"));
        assert_eq!(found("cat {in_model}/m"), pair("in_model", "in.model"));
        assert_eq!(found("cat {in_modle}/m"), pair("in_modle", "in.model"));
        assert_eq!(found("cd {wrk}"), pair("wrk", "work"));
        assert_eq!(found("run --out={outt}"), pair("outt", "out"));
        for fine in [
            "cp x {out}/y; ls {work} {in.model}",
            "echo ${HOME} ${out}/x",
            "echo {a,b} | awk '{print $1}'",
            "find . -exec rm {} +",
            "python3 -c 'print(\"{output}\".format(output=1))'",
            "python3 -c \"print('{word}/x'.format(word=1))\"",
            "printf '%s' '{word}'",
            "jq '{out:1}' > x",
            "cp x {out1}/y",
            "cat {in_zzzzz}/m",
        ] {
            assert_eq!(found(fine), None, "{fine}");
        }
    }

    #[test]
    fn the_last_line_is_read_past_the_earlier_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.txt");
        std::fs::write(
            &log,
            "$ old\nold failure\n$ new\nTraceback\n  ValueError: bad\n\n",
        )
        .unwrap();
        assert_eq!(last_line(&log, 0).as_deref(), Some("ValueError: bad"));
        let long = "x".repeat(300);
        std::fs::write(&log, format!("{long}\n")).unwrap();
        assert_eq!(last_line(&log, 0).unwrap().len(), 203);
        assert_eq!(last_line(&log, 301), None);
    }
}
