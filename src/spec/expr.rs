//! `${...}` interpolation of pipeline params into stage fields.
//!
//! Inside `${...}` goes a param name (`gamma`, `train.lr`) or a small
//! arithmetic expression over params and numbers (`${gamma / 2}`), so a
//! pipeline can state unit conversions such as the report's gamma to the
//! paper's explicitly. A string that is exactly one `${...}` takes the
//! param's own type; otherwise the pieces are joined as text. `$${` writes a
//! literal `${`. `${labels[pair]}` indexes a map param with the value of
//! another param (e.g. a grid axis).

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Param(String),
    /// `map[key]`: the entry of map param `map` named by param `key`'s value.
    Index(String, String),
    Neg(Box<Expr>),
    Binary(Box<Expr>, Op, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Template {
    /// Parses `text`; `None` when it holds no `${` at all (the common case).
    pub fn parse(text: &str) -> Result<Option<Template>, String> {
        if !text.contains("${") {
            return Ok(None);
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            literal.push_str(&rest[..pos]);
            let after = &rest[pos..];
            if let Some(tail) = after.strip_prefix("$${") {
                literal.push_str("${");
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("${") {
                let end = tail
                    .find('}')
                    .ok_or_else(|| format!("unclosed `${{` in {text:?}"))?;
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Expr(Expr::parse(&tail[..end])?));
                rest = &tail[end + 1..];
            } else {
                literal.push('$');
                rest = &after[1..];
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Some(Template { parts }))
    }

    /// Every param the template reads.
    pub fn params(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for part in &self.parts {
            if let Part::Expr(e) = part {
                e.collect_params(&mut out);
            }
        }
        out
    }

    pub fn render(&self, lookup: &dyn Fn(&str) -> Option<Json>) -> Result<Json, String> {
        if let [Part::Expr(e)] = self.parts.as_slice() {
            return e.eval(lookup);
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => match e.eval(lookup)? {
                    Json::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(Json::String(out))
    }
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, String> {
        let tokens = tokenize(src)?;
        let mut parser = Parser { tokens, pos: 0 };
        let expr = parser.sum()?;
        if parser.pos != parser.tokens.len() {
            return Err(format!(
                "unexpected `{}` in `${{{src}}}`",
                parser.tokens[parser.pos]
            ));
        }
        Ok(expr)
    }

    fn collect_params<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Number(_) => {}
            Expr::Param(p) => out.push(p),
            Expr::Index(map, key) => {
                out.push(map);
                out.push(key);
            }
            Expr::Neg(e) => e.collect_params(out),
            Expr::Binary(a, _, b) => {
                a.collect_params(out);
                b.collect_params(out);
            }
        }
    }

    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<Json>) -> Result<Json, String> {
        match self {
            Expr::Param(p) => lookup(p).ok_or_else(|| format!("unknown param `{p}`")),
            Expr::Index(map, key) => {
                let k = lookup(key).ok_or_else(|| format!("unknown param `{key}`"))?;
                let k = crate::canon::label(&k);
                match lookup(map) {
                    Some(Json::Object(entries)) => entries
                        .get(&k)
                        .cloned()
                        .ok_or_else(|| format!("param `{map}` has no entry `{k}` (for `{key}`)")),
                    Some(other) => Err(format!("param `{map}` is {other}, not a mapping")),
                    None => Err(format!("unknown param `{map}`")),
                }
            }
            _ => number(self.eval_number(lookup)?),
        }
    }

    fn eval_number(&self, lookup: &dyn Fn(&str) -> Option<Json>) -> Result<f64, String> {
        match self {
            Expr::Number(x) => Ok(*x),
            Expr::Param(_) | Expr::Index(..) => match self.eval(lookup)? {
                Json::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
                other => Err(format!("`{}` is {other}, not a number", self.text())),
            },
            Expr::Neg(e) => Ok(-e.eval_number(lookup)?),
            Expr::Binary(a, op, b) => {
                let (a, b) = (a.eval_number(lookup)?, b.eval_number(lookup)?);
                Ok(match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div => a / b,
                })
            }
        }
    }
}

impl Expr {
    /// The expression as written (for messages).
    fn text(&self) -> String {
        match self {
            Expr::Number(x) => x.to_string(),
            Expr::Param(p) => p.clone(),
            Expr::Index(m, k) => format!("{m}[{k}]"),
            Expr::Neg(e) => format!("-{}", e.text()),
            Expr::Binary(a, op, b) => {
                let op = match op {
                    Op::Add => "+",
                    Op::Sub => "-",
                    Op::Mul => "*",
                    Op::Div => "/",
                };
                format!("{} {op} {}", a.text(), b.text())
            }
        }
    }
}

fn number(x: f64) -> Result<Json, String> {
    crate::canon::number(x).ok_or_else(|| format!("arithmetic gave {x}"))
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Num(f64),
    Name(String),
    Sym(char),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Num(x) => write!(f, "{x}"),
            Token::Name(n) => f.write_str(n),
            Token::Sym(c) => write!(f, "{c}"),
        }
    }
}

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if "+-*/()[]".contains(c) {
            tokens.push(Token::Sym(c));
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.'
                    || chars[i] == 'e'
                    || chars[i] == 'E'
                    || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let x = text
                .parse::<f64>()
                .map_err(|_| format!("bad number `{text}` in `${{{src}}}`"))?;
            tokens.push(Token::Num(x));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.')) {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected `{c}` in `${{{src}}}`"));
        }
    }
    if tokens.is_empty() {
        return Err("empty `${}`".to_string());
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(Token::Sym(c @ ('+' | '-'))) = self.peek() {
            let op = if *c == '+' { Op::Add } else { Op::Sub };
            self.pos += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(Token::Sym(c @ ('*' | '/'))) = self.peek() {
            let op = if *c == '*' { Op::Mul } else { Op::Div };
            self.pos += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        let token = self.peek().cloned();
        self.pos += 1;
        match token {
            Some(Token::Sym('-')) => Ok(Expr::Neg(Box::new(self.unary()?))),
            Some(Token::Sym('(')) => {
                let inner = self.sum()?;
                match self.peek() {
                    Some(Token::Sym(')')) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err("missing `)`".to_string()),
                }
            }
            Some(Token::Num(x)) => Ok(Expr::Number(x)),
            Some(Token::Name(n)) if self.peek() == Some(&Token::Sym('[')) => {
                self.pos += 1;
                let key = match self.peek().cloned() {
                    Some(Token::Name(k)) => k,
                    _ => return Err(format!("`{n}[` must be followed by a param name")),
                };
                self.pos += 1;
                if self.peek() != Some(&Token::Sym(']')) {
                    return Err(format!("missing `]` after `{n}[{key}`"));
                }
                self.pos += 1;
                Ok(Expr::Index(n, key))
            }
            Some(Token::Name(n)) => Ok(Expr::Param(n)),
            Some(t) => Err(format!("unexpected `{t}`")),
            None => Err("expression ends too early".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<Json> {
        match name {
            "gamma" => Some(json!(0.5)),
            "train.lr" => Some(json!(0.0001)),
            "cost" => Some(json!("weak_kernel")),
            "n" => Some(json!(3)),
            "labels" => Some(json!({"tshirt": 0, "coat": 4})),
            "pair" => Some(json!("coat")),
            _ => None,
        }
    }

    fn render(s: &str) -> Result<Json, String> {
        Template::parse(s).unwrap().unwrap().render(&lookup)
    }

    #[test]
    fn whole_string_keeps_the_type() {
        assert_eq!(render("${gamma}").unwrap(), json!(0.5));
        assert_eq!(render("${ n }").unwrap(), json!(3));
    }

    #[test]
    fn pieces_join_as_text() {
        assert_eq!(
            render("run-${cost}-${n}").unwrap(),
            json!("run-weak_kernel-3")
        );
        assert_eq!(render("$${HOME}/${n}").unwrap(), json!("${HOME}/3"));
    }

    #[test]
    fn arithmetic_follows_precedence() {
        assert_eq!(render("${gamma / 2}").unwrap(), json!(0.25));
        assert_eq!(render("${1 + n * 2}").unwrap(), json!(7));
        assert_eq!(render("${(1 + n) * -2}").unwrap(), json!(-8));
        assert_eq!(render("${train.lr * 1e4}").unwrap(), json!(1));
    }

    #[test]
    fn maps_are_indexed_by_params() {
        assert_eq!(render("${labels[pair]}").unwrap(), json!(4));
        assert_eq!(render("${labels[pair] * 2}").unwrap(), json!(8));
        assert!(render("${labels[n]}").unwrap_err().contains("no entry `3`"));
        assert!(
            render("${cost[pair]}")
                .unwrap_err()
                .contains("not a mapping")
        );
        let t = Template::parse("${labels[pair]}").unwrap().unwrap();
        assert_eq!(t.params(), vec!["labels", "pair"]);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(render("${gama}").unwrap_err().contains("gama"));
        assert!(
            render("${cost * 2}")
                .unwrap_err()
                .contains("`cost` is \"weak_kernel\", not a number")
        );
        assert!(Template::parse("${gamma").is_err());
        assert!(Template::parse("${}").is_err());
        assert!(Template::parse("${gamma +}").is_err());
    }

    #[test]
    fn lists_params_read() {
        let t = Template::parse("${gamma * n}-${cost}").unwrap().unwrap();
        assert_eq!(t.params(), vec!["gamma", "n", "cost"]);
        assert_eq!(Template::parse("plain").unwrap(), None);
    }
}
