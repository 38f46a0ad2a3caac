//! Program logs as an invocation stack: which program was running when each `Program data:` or
//! `Program log:` line was written, and under which instruction.
//!
//! Anchor's TS `EventParser` only attributes lines to a program invoked at depth 1, and drops
//! `Log truncated` silently; here every depth counts, and truncation is reported.

/// A payload line written while `program` was executing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramOutput<'a> {
    pub program: &'a str,
    pub kind: OutputKind,
    /// The text after `Program data: ` or `Program log: `.
    pub payload: &'a str,
    /// Top-level instruction the line belongs to.
    pub ix_index: usize,
    /// Position among that instruction's inner instructions of the invocation that wrote
    /// the line; `None` when the top-level program itself wrote it.
    pub inner_ix_index: Option<usize>,
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Data,
    Log,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedLogs<'a> {
    pub outputs: Vec<ProgramOutput<'a>>,
    /// The runtime stopped recording (`Log truncated`): later events are missing from logs.
    pub truncated: bool,
    /// Lines that broke the stack discipline (a `success` with nothing invoked, say).
    pub malformed: bool,
}

struct Frame<'a> {
    program: &'a str,
    inner_ix_index: Option<usize>,
}

pub fn parse_logs<'a>(logs: &'a [String]) -> ParsedLogs<'a> {
    let mut parsed = ParsedLogs::default();
    let mut stack: Vec<Frame<'a>> = Vec::new();
    // Top-level instructions seen so far; the current one is count - 1.
    let mut top_level = 0usize;
    let mut inner_in_current = 0usize;
    for (line, text) in logs.iter().enumerate() {
        if text == "Log truncated" {
            parsed.truncated = true;
            break;
        }
        if let Some(payload) = text.strip_prefix("Program data: ") {
            push_output(&mut parsed, &stack, top_level, OutputKind::Data, payload, line);
        } else if let Some(payload) = text.strip_prefix("Program log: ") {
            push_output(&mut parsed, &stack, top_level, OutputKind::Log, payload, line);
        } else if let Some(rest) = text.strip_prefix("Program ") {
            let mut words = rest.split(' ');
            let program = words.next().unwrap_or("");
            match (words.next(), words.next()) {
                (Some("invoke"), Some(depth)) => {
                    let depth: usize = depth.trim_matches(['[', ']']).parse().unwrap_or(stack.len() + 1);
                    if depth == 1 {
                        stack.clear();
                        top_level += 1;
                        inner_in_current = 0;
                        stack.push(Frame { program, inner_ix_index: None });
                    } else {
                        if depth != stack.len() + 1 {
                            parsed.malformed = true;
                            stack.truncate(depth.saturating_sub(1));
                        }
                        stack.push(Frame { program, inner_ix_index: Some(inner_in_current) });
                        inner_in_current += 1;
                    }
                }
                (Some("success"), None) | (Some("failed:"), _) => {
                    match stack.last() {
                        Some(frame) if frame.program == program => {
                            stack.pop();
                        }
                        _ => parsed.malformed = true,
                    }
                }
                _ => {}
            }
        }
    }
    parsed
}

fn push_output<'a>(
    parsed: &mut ParsedLogs<'a>,
    stack: &[Frame<'a>],
    top_level: usize,
    kind: OutputKind,
    payload: &'a str,
    line: usize,
) {
    match stack.last() {
        Some(frame) => parsed.outputs.push(ProgramOutput {
            program: frame.program,
            kind,
            payload,
            ix_index: top_level - 1,
            inner_ix_index: frame.inner_ix_index,
            line,
        }),
        None => parsed.malformed = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn attributes_lines_to_the_running_program_at_any_depth() {
        let lines = logs(&[
            "Program Router invoke [1]",
            "Program log: routing",
            "Program Pump invoke [2]",
            "Program Token invoke [3]",
            "Program Token success",
            "Program data: AAAA",
            "Program Pump consumed 10 of 20 compute units",
            "Program Pump success",
            "Program Pump invoke [2]",
            "Program data: BBBB",
            "Program Pump success",
            "Program Router success",
            "Program Pump invoke [1]",
            "Program data: CCCC",
            "Program Pump failed: custom program error: 0x1",
        ]);
        let parsed = parse_logs(&lines);
        let seen: Vec<_> = parsed
            .outputs
            .iter()
            .map(|o| (o.program, o.kind, o.payload, o.ix_index, o.inner_ix_index))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("Router", OutputKind::Log, "routing", 0, None),
                ("Pump", OutputKind::Data, "AAAA", 0, Some(0)),
                ("Pump", OutputKind::Data, "BBBB", 0, Some(2)),
                ("Pump", OutputKind::Data, "CCCC", 1, None),
            ]
        );
        assert!(!parsed.truncated && !parsed.malformed);
    }

    #[test]
    fn truncation_is_reported_and_stops_attribution() {
        let lines = logs(&["Program Pump invoke [1]", "Log truncated", "Program data: AAAA"]);
        let parsed = parse_logs(&lines);
        assert!(parsed.truncated);
        assert!(parsed.outputs.is_empty());
    }

    #[test]
    fn a_line_outside_any_invocation_is_malformed_not_attributed() {
        let lines = logs(&["Program data: AAAA"]);
        let parsed = parse_logs(&lines);
        assert!(parsed.malformed);
        assert!(parsed.outputs.is_empty());
    }
}
